/**
 * A simulation scenario: demand, the ECS model, the reconciler's cadence, desired state and the
 * pool policy. Defaults describe the origin design on Fargate (tasks warm in ~10 s, 5/20/3).
 */
import type { DesiredState } from "../config/index.js";
import { DEFAULT_DESIRED } from "../config/index.js";
import type { PlanTimings } from "../plan/index.js";
import { DEFAULT_TIMINGS } from "../plan/index.js";
import type { Arrival, RateProfile, SessionModel } from "./demand.js";

export interface EcsModel {
  /** RunTask → bridge registered warm: lognormal with this median and p90. */
  startMedianMs: number;
  startP90Ms: number;
  /** Task launches: token bucket of this size refilled at this rate (ECS/Fargate launch limits). */
  launchBurst: number;
  launchPerS: number;
  /** A launched task comes back as a RunTask `failures` entry (capacity). */
  runFailureProb: number;
  /** A task reaches RUNNING but its bridge never registers (the planner must stop it). */
  neverRegisterProb: number;
  /** StopTask → STOPPED and gone from ListTasks. */
  stopDelayMs: number;
  /** A launched task becomes visible in ListTasks after this (eventual consistency). */
  listLagMs: number;
}

export interface ReconcilerModel {
  resyncMs: number;
  /** Resync spread ±fraction, drawn from the seed. */
  resyncJitter: number;
  /** From a claim/miss event to the pass it wakes (XREAD + observe); events in between coalesce. */
  eventPassDelayMs: number;
  timings: PlanTimings;
}

export type PolicySpec =
  | { kind: "static" }
  | {
      kind: "adaptive";
      /** Arrival-rate smoothing window. */
      windowMs: number;
      targetHitRate: number;
      scaleDownDelayMs: number;
      /** Added to the start p90 (see pkg/policy); defaults to the resync interval. */
      refillDelayMs?: number;
      /** Start durations kept for the p90, and the assumption before the first. */
      startSamples: number;
      assumedStartMs: number;
    };

export type DemandSpec =
  | { kind: "poisson"; profile: RateProfile; session: SessionModel }
  | { kind: "trace"; claims: readonly Arrival[]; name?: string };

export interface Scenario {
  seed: number;
  durationMs: number;
  demand: DemandSpec;
  ecs: EcsModel;
  reconciler: ReconcilerModel;
  desired: DesiredState;
  policy: PolicySpec;
  /** Claim → task ready for the user when a warm task is taken (init_user, workspace, agent). */
  warmAllocMs: number;
  pricePerTaskHour: number;
  /** Width of one time-series bucket (chart resolution). */
  sampleMs: number;
}

export const DEFAULT_ECS: EcsModel = {
  startMedianMs: 10_000,
  startP90Ms: 14_000,
  launchBurst: 100,
  launchPerS: 20,
  runFailureProb: 0.005,
  neverRegisterProb: 0.002,
  stopDelayMs: 5_000,
  listLagMs: 1_000,
};

export const DEFAULT_RECONCILER: ReconcilerModel = {
  resyncMs: 10_000,
  resyncJitter: 0.1,
  eventPassDelayMs: 100,
  timings: DEFAULT_TIMINGS,
};

export const DEFAULT_ADAPTIVE: Extract<PolicySpec, { kind: "adaptive" }> = {
  kind: "adaptive",
  windowMs: 120_000,
  targetHitRate: 0.995,
  scaleDownDelayMs: 600_000,
  startSamples: 200,
  assumedStartMs: 15_000,
};

export const DEFAULT_SESSION: SessionModel = { medianMs: 180_000, sigma: 0.7 };

/** The origin design's desired state, with room for every claimed session under maxTasks. */
export const ORIGIN_DESIRED: DesiredState = { ...DEFAULT_DESIRED, maxTasks: 5_000 };

export function defaultScenario(over: Partial<Scenario> = {}): Scenario {
  return {
    seed: 1,
    durationMs: 86_400_000,
    demand: { kind: "poisson", profile: { kind: "constant", ratePerS: 1 }, session: DEFAULT_SESSION },
    ecs: DEFAULT_ECS,
    reconciler: DEFAULT_RECONCILER,
    desired: ORIGIN_DESIRED,
    policy: { kind: "static" },
    warmAllocMs: 50,
    pricePerTaskHour: 0.05,
    sampleMs: 300_000,
    ...over,
  };
}

/** Every problem with a scenario at once, each naming the field and the rule. */
export function validateScenario(s: Scenario): string[] {
  const errs: string[] = [];
  const pos = (name: string, v: number, allowZero = false) => {
    if (!Number.isFinite(v) || v < 0 || (!allowZero && v === 0))
      errs.push(`${name}: must be a finite number ${allowZero ? "≥" : ">"} 0, got ${v}`);
  };
  const prob = (name: string, v: number) => {
    if (!(v >= 0 && v < 1)) errs.push(`${name}: must be a probability in [0, 1), got ${v}`);
  };
  if (!Number.isInteger(s.seed)) errs.push(`seed: must be an integer, got ${s.seed}`);
  pos("duration", s.durationMs);
  pos("ecs.startMedianMs", s.ecs.startMedianMs);
  if (!(s.ecs.startP90Ms >= s.ecs.startMedianMs))
    errs.push(`ecs.startP90Ms: must be ≥ startMedianMs (${s.ecs.startMedianMs}), got ${s.ecs.startP90Ms}`);
  pos("ecs.launchBurst", s.ecs.launchBurst);
  pos("ecs.launchPerS", s.ecs.launchPerS);
  prob("ecs.runFailureProb", s.ecs.runFailureProb);
  prob("ecs.neverRegisterProb", s.ecs.neverRegisterProb);
  pos("ecs.stopDelayMs", s.ecs.stopDelayMs, true);
  pos("ecs.listLagMs", s.ecs.listLagMs, true);
  pos("reconciler.resyncMs", s.reconciler.resyncMs);
  if (!(s.reconciler.resyncJitter >= 0 && s.reconciler.resyncJitter < 1))
    errs.push(`reconciler.resyncJitter: must be in [0, 1), got ${s.reconciler.resyncJitter}`);
  pos("reconciler.eventPassDelayMs", s.reconciler.eventPassDelayMs, true);
  const d = s.desired;
  for (const k of ["minWarm", "maxWarm", "replenishThreshold", "maxTasks"] as const) {
    if (!Number.isInteger(d[k]) || d[k] < 0) errs.push(`desired.${k}: must be an integer ≥ 0, got ${d[k]}`);
  }
  if (!(d.replenishThreshold <= d.minWarm && d.minWarm <= d.maxWarm && d.maxWarm <= d.maxTasks))
    errs.push(
      `desired: must hold 0 ≤ replenishThreshold (${d.replenishThreshold}) ≤ minWarm (${d.minWarm}) ≤ maxWarm (${d.maxWarm}) ≤ maxTasks (${d.maxTasks})`,
    );
  if (s.policy.kind === "adaptive") {
    const p = s.policy;
    pos("policy.windowMs", p.windowMs);
    if (!(p.targetHitRate > 0 && p.targetHitRate < 1))
      errs.push(`policy.targetHitRate: must be in (0, 1), got ${p.targetHitRate}`);
    pos("policy.scaleDownDelayMs", p.scaleDownDelayMs, true);
    if (p.refillDelayMs !== undefined) pos("policy.refillDelayMs", p.refillDelayMs, true);
    if (!Number.isInteger(p.startSamples) || p.startSamples < 1)
      errs.push(`policy.startSamples: must be an integer ≥ 1, got ${p.startSamples}`);
    pos("policy.assumedStartMs", p.assumedStartMs);
  }
  if (s.demand.kind === "poisson") {
    const pr = s.demand.profile;
    if (pr.kind === "constant") pos("demand.rate", pr.ratePerS, true);
    if (pr.kind === "diurnal") {
      pos("demand.rate", pr.meanPerS, true);
      if (!(pr.peakToTrough >= 1)) errs.push(`demand.peakToTrough: must be ≥ 1, got ${pr.peakToTrough}`);
      if (!(pr.peakHour >= 0 && pr.peakHour < 24))
        errs.push(`demand.peakHour: must be in [0, 24), got ${pr.peakHour}`);
    }
    if (pr.kind === "bursty") {
      pos("demand.rate", pr.baseRatePerS, true);
      pos("demand.burstsPerDay", pr.burstsPerDay, true);
      if (!(pr.multiplier >= 1)) errs.push(`demand.burstMultiplier: must be ≥ 1, got ${pr.multiplier}`);
      pos("demand.burstMs", pr.burstMs);
      if (!(pr.rampMs >= 0 && 2 * pr.rampMs <= pr.burstMs))
        errs.push(`demand.rampMs: must be in [0, burstMs/2], got ${pr.rampMs}`);
    }
    pos("demand.session.medianMs", s.demand.session.medianMs);
    pos("demand.session.sigma", s.demand.session.sigma, true);
  }
  pos("warmAllocMs", s.warmAllocMs, true);
  pos("pricePerTaskHour", s.pricePerTaskHour, true);
  pos("sampleMs", s.sampleMs);
  return errs;
}
