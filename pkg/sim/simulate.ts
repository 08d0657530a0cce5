/**
 * The simulator's engine: a virtual clock that jumps from event to event (no sleeps), driving
 * the world with arrivals, registrations, releases and stops, and running reconcile passes
 * exactly as the reconciler does — on a jittered resync interval and shortly after claim/miss
 * events (coalesced), each one observing the world, calling the planner, applying its actions.
 * Under the adaptive policy the warm target is computed before each pass and handed to the
 * planner as desired minWarm, the way the reconciler calls pkg/policy.
 */
import type { DesiredState } from "../config/index.js";
import type { PlanFn } from "../plan/index.js";
import { ArrivalRateWindow, StartTimeWindow, adaptiveTarget, type AdaptiveState } from "../policy/index.js";
import { poissonArrivals, traceArrivals, type Arrival, type ArrivalSource } from "./demand.js";
import { EventQueue } from "./event-queue.js";
import { Ledger } from "./ledger.js";
import { Prng } from "./prng.js";
import { validateScenario, type Scenario } from "./scenario.js";
import { WaitSamples, counterFields, emptySeries, taskHours, type SimResult } from "./stats.js";
import { World, type Claim, type SimTask } from "./world.js";

type Ev =
  | { k: "arrival"; a: Arrival }
  | { k: "register"; t: SimTask }
  | { k: "stopped"; t: SimTask }
  | { k: "release"; c: Claim }
  | { k: "resync" }
  | { k: "event-pass" }
  | { k: "sample" };

export interface SimOptions {
  /** The planner to run: the production `plan` (see pkg/sim/index.ts `runSim`). */
  plan: PlanFn;
  label?: string;
  /** Keep every claim and task transition for the conservation checks. */
  keepLedger?: boolean;
  /** Called with the share of virtual time done (0–1), about every 1%. */
  onProgress?: (done: number) => void;
}

export interface SimRun {
  result: SimResult;
  ledger: Ledger;
}

export const SIM_REVISION = "arn:aws:ecs:sim:000000000000:task-definition/pool:1";

export function simulate(s: Scenario, opts: SimOptions): SimRun {
  const errs = validateScenario(s);
  if (errs.length) throw new Error(`invalid scenario: ${errs.join("; ")}`);
  const q = new EventQueue<Ev>();
  const ledger = new Ledger(opts.keepLedger === true);
  const jitter = new Prng(s.seed, "jitter");
  const waits = new WaitSamples();
  const series = emptySeries(s.sampleMs);
  const rc = s.reconciler;
  let hits = 0;
  let misses = 0;
  let bucketArrivals = 0;
  let bucketMaxWait = 0;
  let bucketMisses = 0;
  let bucketWarmMin = Infinity;
  let lastTarget = 0;
  let targetIntegral = 0;
  let lastTargetAtMs = 0;
  let eventPassPending = false;
  const passes = { event: 0, resync: 0 };

  const policy = s.policy;
  const rate = policy.kind === "adaptive" ? new ArrivalRateWindow(policy.windowMs) : undefined;
  const starts =
    policy.kind === "adaptive" ? new StartTimeWindow(policy.startSamples, policy.assumedStartMs) : undefined;
  let policyState: AdaptiveState | undefined;
  let lastMinWarm = s.desired.minWarm;

  const world = new World(
    s.ecs,
    s.desired.leaseSeconds * 1000,
    s.warmAllocMs,
    {
      register: (t, at) => q.push(at, { k: "register", t }),
      stopped: (t, at) => q.push(at, { k: "stopped", t }),
      release: (c, at) => q.push(at, { k: "release", c }),
      served: (_c, waitMs, hit) => {
        waits.add(waitMs);
        if (hit) hits++;
        if (waitMs > bucketMaxWait) bucketMaxWait = waitMs;
      },
      started: (ms) => starts?.record(ms),
    },
    ledger,
    s.seed,
  );

  const source: ArrivalSource =
    s.demand.kind === "poisson"
      ? poissonArrivals(s.demand.profile, s.demand.session, s.durationMs, s.seed)
      : traceArrivals(s.demand.claims, s.durationMs);
  let claimSeq = 0;

  const desiredFor = (nowMs: number): DesiredState => {
    if (policy.kind !== "adaptive" || !rate || !starts) return s.desired;
    const d = adaptiveTarget(
      {
        minWarm: s.desired.minWarm,
        maxWarm: s.desired.maxWarm,
        targetHitRate: policy.targetHitRate,
        scaleDownDelayMs: policy.scaleDownDelayMs,
        refillDelayMs: policy.refillDelayMs ?? rc.resyncMs / 2,
      },
      { arrivalRatePerS: rate.ratePerS(nowMs), startP90Ms: starts.p90Ms(), nowMs, previous: policyState },
    );
    policyState = d.state;
    return { ...s.desired, minWarm: d.target };
  };

  const pass = (nowMs: number, eventTriggered: boolean) => {
    if (eventTriggered) passes.event++;
    else passes.resync++;
    const desired = desiredFor(nowMs);
    const observed = world.observe(nowMs, SIM_REVISION, eventTriggered, rc.timings.runBackoffMaxMs);
    // The reconciler's desired-state tracker sees the effective desired state, so a new adaptive
    // target counts as a change and is acted on at once, like an operator's edit.
    observed.desiredChanged = desired.minWarm !== lastMinWarm;
    lastMinWarm = desired.minWarm;
    const plan = opts.plan(desired, observed, nowMs, rc.timings);
    world.apply(plan.actions, nowMs);
    targetIntegral += lastTarget * (nowMs - lastTargetAtMs);
    lastTarget = plan.target;
    lastTargetAtMs = nowMs;
  };

  const wake = (nowMs: number) => {
    if (eventPassPending) return;
    eventPassPending = true;
    q.push(nowMs + rc.eventPassDelayMs, { k: "event-pass" });
  };

  const first = source.next();
  if (first) q.push(first.atMs, { k: "arrival", a: first });
  q.push(0, { k: "resync" });
  q.push(s.sampleMs, { k: "sample" });
  const progressStep = s.durationMs / 100;
  let nextProgress = progressStep;

  for (;;) {
    const item = q.pop();
    if (!item || item.atMs >= s.durationMs) break;
    const now = item.atMs;
    if (opts.onProgress && now >= nextProgress) {
      opts.onProgress(now / s.durationMs);
      nextProgress = now + progressStep;
    }
    const ev = item.event;
    switch (ev.k) {
      case "arrival": {
        bucketArrivals++;
        rate?.record(now);
        const c: Claim = { id: `c${++claimSeq}`, arrivedAtMs: now, sessionMs: ev.a.sessionMs };
        if (!world.claim(c, now)) {
          misses++;
          bucketMisses++;
        }
        if (world.counts.warm < bucketWarmMin) bucketWarmMin = world.counts.warm;
        wake(now); // `claim` or `miss` event
        const n = source.next();
        if (n) q.push(n.atMs, { k: "arrival", a: n });
        break;
      }
      case "register":
        world.register(ev.t, now);
        break;
      case "release":
        world.release(ev.c, now);
        break;
      case "stopped":
        world.stopped(ev.t, now);
        break;
      case "event-pass":
        eventPassPending = false;
        pass(now, true);
        break;
      case "resync": {
        pass(now, false);
        const spread = rc.resyncMs * rc.resyncJitter;
        q.push(now + rc.resyncMs - spread + 2 * spread * jitter.next(), { k: "resync" });
        break;
      }
      case "sample":
        series.tMs.push(now - s.sampleMs);
        series.demandPerS.push((bucketArrivals * 1000) / s.sampleMs);
        series.warm.push(world.counts.warm);
        series.warmMin.push(Math.min(bucketWarmMin, world.counts.warm));
        series.target.push(lastTarget);
        series.claimed.push(world.counts.claimed);
        series.maxWaitMs.push(bucketMaxWait);
        series.misses.push(bucketMisses);
        bucketArrivals = bucketMisses = bucketMaxWait = 0;
        bucketWarmMin = Infinity;
        q.push(now + s.sampleMs, { k: "sample" });
        break;
    }
  }
  opts.onProgress?.(1);

  const end = s.durationMs;
  const unserved = world.waiting;
  for (const c of world.pendingClaims()) waits.add(end - c.arrivedAtMs); // still queued: wait so far
  const w = waits.summary();
  targetIntegral += lastTarget * (end - lastTargetAtMs);
  const hours = taskHours(world.history, end);
  const claims = hits + misses;
  const result: SimResult = {
    label: opts.label ?? defaultLabel(s),
    seed: s.seed,
    durationMs: s.durationMs,
    claims,
    hits,
    misses,
    unserved,
    hitRate: claims ? hits / claims : 1,
    waitP50Ms: w.p50,
    waitP99Ms: w.p99,
    waitMaxMs: w.max,
    idleTaskHours: hours.total - hours.busy,
    busyTaskHours: hours.busy,
    totalTaskHours: hours.total,
    cost: hours.total * s.pricePerTaskHour,
    pricePerTaskHour: s.pricePerTaskHour,
    ...counterFields(world.counters),
    passes,
    meanTarget: targetIntegral / end,
    violations: { ...ledger.violations },
    series,
  };
  return { result, ledger };
}

export function defaultLabel(s: Scenario): string {
  const d = s.desired;
  if (s.policy.kind === "static") return `static ${d.minWarm}/${d.maxWarm}/${d.replenishThreshold}`;
  return `adaptive ${d.minWarm}..${d.maxWarm} @${(s.policy.targetHitRate * 100).toFixed(1)}%`;
}
