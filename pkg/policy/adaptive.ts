/**
 * The adaptive warm target: a pure function of measured demand, in the spirit of Agones'
 * `applyBufferPolicy` but sized from arrivals instead of a fixed buffer. No clock, no I/O: the
 * caller passes the smoothed arrival rate, the measured start-time p90 and `now`, and keeps the
 * returned state for the next call. docs/adaptive-policy.md explains the formula.
 *
 *   lead    = startP90 + refillDelay                 (time until a replacement is warm)
 *   demand  = rate × lead                            (claims expected while it starts)
 *   raw     = Q(targetHitRate; Poisson(demand)) + 1  (base-stock level; 0 when rate = 0)
 *   held    = max(raw over the last scaleDownDelay)  (up at once, down only after the delay)
 *   target  = clamp(held, minWarm, maxWarm)
 */
import { poissonQuantile } from "./poisson.js";

export interface AdaptiveParams {
  /** Configured floor and ceiling (desired state minWarm / maxWarm). */
  minWarm: number;
  maxWarm: number;
  /** Share of claims that should find a warm task, in (0, 1), e.g. 0.995. */
  targetHitRate: number;
  /** A lower target takes effect only after every higher one is this old (no flapping). */
  scaleDownDelayMs: number;
  /** Added to the start p90: how long a replacement waits for the pass that launches it. */
  refillDelayMs: number;
}

/** What the previous call decided, carried by the caller into the next call. */
export interface AdaptiveState {
  /** Stabilisation window: recent raw targets, strictly decreasing in value, oldest first. */
  peaks: readonly { atMs: number; target: number }[];
}

export interface AdaptiveInputs {
  /** Claim arrivals (hits and misses alike) per second, smoothed over the window. */
  arrivalRatePerS: number;
  /** Measured p90 of RunTask → registered warm. */
  startP90Ms: number;
  nowMs: number;
  previous?: AdaptiveState;
}

export interface AdaptiveDecision {
  /** The warm target to use as desired minWarm this pass. */
  target: number;
  /** The base-stock level for the demand measured now, before holding and clamping. */
  raw: number;
  /** Raw target held by the scale-down delay, before clamping. */
  held: number;
  leadTimeMs: number;
  expectedDemand: number;
  state: AdaptiveState;
  /** One line a human reads in logs and `ctl status`. */
  explanation: string;
}

/** Every problem with the parameters at once, each naming the field and the rule. */
export function validateAdaptiveParams(p: AdaptiveParams): string[] {
  const errs: string[] = [];
  const int = (name: keyof AdaptiveParams, v: number) => {
    if (!Number.isInteger(v) || v < 0) errs.push(`${name}: must be an integer ≥ 0, got ${v}`);
  };
  int("minWarm", p.minWarm);
  int("maxWarm", p.maxWarm);
  if (p.maxWarm < p.minWarm) errs.push(`maxWarm: must be ≥ minWarm (${p.minWarm}), got ${p.maxWarm}`);
  if (!(p.targetHitRate > 0 && p.targetHitRate < 1))
    errs.push(`targetHitRate: must be in (0, 1), got ${p.targetHitRate}`);
  if (!(p.scaleDownDelayMs >= 0) || !Number.isFinite(p.scaleDownDelayMs))
    errs.push(`scaleDownDelayMs: must be a finite number ≥ 0, got ${p.scaleDownDelayMs}`);
  if (!(p.refillDelayMs >= 0) || !Number.isFinite(p.refillDelayMs))
    errs.push(`refillDelayMs: must be a finite number ≥ 0, got ${p.refillDelayMs}`);
  return errs;
}

export function adaptiveTarget(params: AdaptiveParams, inputs: AdaptiveInputs): AdaptiveDecision {
  const errs = validateAdaptiveParams(params);
  const { arrivalRatePerS: rate, startP90Ms, nowMs } = inputs;
  if (!(rate >= 0) || !Number.isFinite(rate))
    errs.push(`arrivalRatePerS: must be a finite number ≥ 0, got ${rate}`);
  if (!(startP90Ms >= 0) || !Number.isFinite(startP90Ms))
    errs.push(`startP90Ms: must be a finite number ≥ 0, got ${startP90Ms}`);
  if (!Number.isFinite(nowMs)) errs.push(`nowMs: must be finite, got ${nowMs}`);
  if (errs.length) throw new Error(`adaptive policy: ${errs.join("; ")}`);

  const leadTimeMs = startP90Ms + params.refillDelayMs;
  const expectedDemand = (rate * leadTimeMs) / 1000;
  // Base stock: idle (warm + starting) is kept at T, so the launches in flight are
  // Poisson(demand) and a claim finds a warm task iff fewer than T are in flight.
  const raw = rate > 0 ? poissonQuantile(params.targetHitRate, expectedDemand) + 1 : 0;

  const horizon = nowMs - params.scaleDownDelayMs;
  const peaks = (inputs.previous?.peaks ?? []).filter((p) => p.atMs > horizon && p.atMs <= nowMs);
  while (peaks.length > 0 && peaks[peaks.length - 1]!.target <= raw) peaks.pop();
  peaks.push({ atMs: nowMs, target: raw });
  const top = peaks[0]!;
  const held = top.target;
  const target = Math.min(params.maxWarm, Math.max(params.minWarm, held));

  const parts = [
    `${fmt(rate, 3)} claims/s × ${fmt(leadTimeMs / 1000, 1)} s lead (start p90 ${fmt(startP90Ms / 1000, 1)} s` +
      ` + refill ${fmt(params.refillDelayMs / 1000, 1)} s) = ${fmt(expectedDemand, 2)} expected`,
    `Poisson q${fmt(params.targetHitRate * 100, 2)} + 1 → ${raw}`,
  ];
  if (held > raw) parts.push(`held at ${held} from ${fmt((nowMs - top.atMs) / 1000, 0)} s ago`);
  if (target !== held) parts.push(`clamped to [${params.minWarm}, ${params.maxWarm}]`);
  const explanation = `adaptive target ${target}: ${parts.join("; ")}`;
  return { target, raw, held, leadTimeMs, expectedDemand, state: { peaks }, explanation };
}

function fmt(n: number, digits: number): string {
  return Number(n.toFixed(digits)).toString();
}
