/**
 * The policy comparison: on one demand, the origin design's static 5/20/3, the smallest static
 * size that reaches the hit-rate goal (found by a sweep: doubling, then bisection — hit rate
 * grows with the size), and the adaptive policy. Every run shares the seed, so all of them see
 * exactly the same claims.
 */
import type { DesiredState } from "../config/index.js";
import type { PlanFn } from "../plan/index.js";
import { ORIGIN_DESIRED, type PolicySpec, type Scenario } from "./scenario.js";
import { simulate } from "./simulate.js";
import type { SimResult } from "./stats.js";

export interface CompareOptions {
  plan: PlanFn;
  /** Hit-rate goal the sweep and the verdict use, e.g. 0.995. */
  goal: number;
  adaptive: { desired: DesiredState; policy: Extract<PolicySpec, { kind: "adaptive" }> };
  /** Largest static size the sweep tries. */
  maxStatic?: number;
  onRun?: (label: string) => void;
  onProgress?: (done: number) => void;
}

export interface SweepPoint {
  size: number;
  hitRate: number;
  idleTaskHours: number;
}

export interface Comparison {
  goal: number;
  origin: SimResult;
  bestStatic: SimResult | undefined;
  bestStaticSize: number | undefined;
  adaptive: SimResult;
  sweep: SweepPoint[];
  /** Adaptive reaches the goal with fewer idle task-hours than the best static size. */
  adaptiveWins: boolean;
}

/** Static size S in the origin's shape: minWarm S, maxWarm max(S, 20), replenishThreshold min(S, 3). */
export function staticDesired(size: number, base: DesiredState = ORIGIN_DESIRED): DesiredState {
  return {
    ...base,
    minWarm: size,
    maxWarm: Math.max(size, base.maxWarm),
    replenishThreshold: Math.min(size, base.replenishThreshold),
  };
}

export function compare(base: Scenario, o: CompareOptions): Comparison {
  const cache = new Map<number, SimResult>();
  const run = (s: Scenario, label: string): SimResult => {
    o.onRun?.(label);
    return simulate(s, { plan: o.plan, label, ...(o.onProgress ? { onProgress: o.onProgress } : {}) }).result;
  };
  const atSize = (n: number): SimResult => {
    let r = cache.get(n);
    if (!r) {
      r = run({ ...base, desired: staticDesired(n), policy: { kind: "static" } }, `static ${n} (sweep)`);
      cache.set(n, r);
    }
    return r;
  };

  const origin = run(
    { ...base, desired: ORIGIN_DESIRED, policy: { kind: "static" } },
    "origin static 5/20/3",
  );
  const adaptive = run(
    { ...base, desired: o.adaptive.desired, policy: o.adaptive.policy },
    `adaptive ${o.adaptive.desired.minWarm}..${o.adaptive.desired.maxWarm}`,
  );

  const max = o.maxStatic ?? 400;
  let lo = 0; // largest size known to miss the goal
  let hi = 8;
  while (hi <= max && atSize(hi).hitRate < o.goal) {
    lo = hi;
    hi *= 2;
  }
  let best: number | undefined;
  if (hi <= max) {
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if (atSize(mid).hitRate >= o.goal) hi = mid;
      else lo = mid;
    }
    best = hi;
  }
  const bestStatic =
    best === undefined
      ? undefined
      : { ...atSize(best), label: `best static ${best}/${Math.max(best, 20)}/3` };
  const sweep = [...cache.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([size, r]) => ({ size, hitRate: r.hitRate, idleTaskHours: r.idleTaskHours }));
  const adaptiveWins =
    adaptive.hitRate >= o.goal &&
    (bestStatic === undefined || adaptive.idleTaskHours < bestStatic.idleTaskHours);
  return { goal: o.goal, origin, bestStatic, bestStaticSize: best, adaptive, sweep, adaptiveWins };
}
