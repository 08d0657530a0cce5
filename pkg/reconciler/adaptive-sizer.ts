import type { DesiredState } from "../config/index.js";
import type { Metrics } from "../metrics/index.js";
import {
  adaptiveTarget,
  ArrivalRateWindow,
  StartTimeWindow,
  type AdaptiveDecision,
  type AdaptiveState,
} from "../policy/index.js";

/** Start time assumed before the first task has registered (the simulator's default). */
export const ASSUMED_START_MS = 15_000;
const START_SAMPLES = 200;
/**
 * Event types that are claim demand: a hit (`claim`) and a miss both asked for a task. A queued
 * claim shows up twice — `miss` when it queued, `claim` when a new task served it — and is one
 * arrival: each claimId counts once.
 */
const DEMAND_EVENTS = new Set(["claim", "miss"]);
/** How long a counted claimId is remembered (a queued claim waits far less). */
const COUNTED_TTL_MS = 3_600_000;

/**
 * The reconciler's side of `policy: "adaptive"` (docs/adaptive-policy.md): it keeps the
 * measurements (claim arrivals from the events stream, start durations of registered tasks) and
 * the policy's state between passes, and turns the desired state in force into the one the
 * planner sees, with `minWarm` replaced by the adaptive target. A restart or a new leader starts
 * empty, which at worst lowers the target at once.
 */
export class AdaptiveSizer {
  private rate: ArrivalRateWindow | undefined;
  private readonly starts = new StartTimeWindow(START_SAMPLES, ASSUMED_START_MS);
  private state: AdaptiveState | undefined;
  /** Arrivals seen before the first adaptive pass sized the window (kept for at most an hour). */
  private pending: number[] = [];
  /** claimId → when it was counted, so a queued claim's miss and claim are one arrival. */
  private readonly counted = new Map<string, number>();
  last: AdaptiveDecision | undefined;

  constructor(
    private readonly pool: string,
    private readonly refillDelayMs: number,
    private readonly metrics?: Metrics,
  ) {}

  /** Stream entries read by the trigger: claims and misses are demand. */
  onEvents(entries: readonly { type: string; atMs: number; claimId?: string }[]): void {
    for (const e of entries) {
      if (!DEMAND_EVENTS.has(e.type) || !Number.isFinite(e.atMs)) continue;
      if (e.claimId !== undefined) {
        if (this.counted.has(e.claimId)) continue;
        this.counted.set(e.claimId, e.atMs);
      }
      if (this.rate) this.rate.record(e.atMs);
      else {
        this.pending.push(e.atMs);
        if (this.pending.length > 100_000) this.pending.splice(0, this.pending.length - 100_000);
      }
    }
  }

  /** Forgets claimIds counted long ago (insertion order is time order). */
  private pruneCounted(nowMs: number): void {
    for (const [id, at] of this.counted) {
      if (at > nowMs - COUNTED_TTL_MS && this.counted.size <= 500_000) break;
      this.counted.delete(id);
    }
  }

  /** A task's RunTask → registered duration. */
  recordStart(durationMs: number): void {
    this.starts.record(durationMs);
  }

  /** The desired state the planner sees: as is for `static`, minWarm = the adaptive target otherwise. */
  apply(desired: DesiredState, nowMs: number): DesiredState {
    this.pruneCounted(nowMs);
    if (desired.policy !== "adaptive") {
      this.last = undefined;
      return desired;
    }
    const windowMs = desired.adaptive.windowSeconds * 1000;
    if (!this.rate || this.rate.windowMs !== windowMs) {
      const next = new ArrivalRateWindow(windowMs);
      for (const t of this.pending.filter((t) => t > nowMs - 3_600_000)) next.record(t);
      this.pending = [];
      this.rate = next;
    }
    const d = adaptiveTarget(
      {
        minWarm: desired.minWarm,
        maxWarm: desired.maxWarm,
        targetHitRate: desired.adaptive.targetHitRate,
        scaleDownDelayMs: desired.adaptive.scaleDownDelaySeconds * 1000,
        refillDelayMs: this.refillDelayMs,
      },
      {
        arrivalRatePerS: this.rate.ratePerS(nowMs),
        startP90Ms: this.starts.p90Ms(),
        nowMs,
        ...(this.state ? { previous: this.state } : {}),
      },
    );
    this.state = d.state;
    this.last = d;
    const m = this.metrics;
    if (m) {
      const pool = this.pool;
      m.policyArrivalRate.set({ pool }, this.rate.ratePerS(nowMs));
      m.policyStartP90.set({ pool }, this.starts.p90Ms() / 1000);
      m.policyExpectedDemand.set({ pool }, d.expectedDemand);
      m.policyRawTarget.set({ pool }, d.raw);
      m.policyTarget.set({ pool }, d.target);
    }
    return { ...desired, minWarm: d.target };
  }
}
