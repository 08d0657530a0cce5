/**
 * Demand models: when claims arrive and how long each session holds its task. A rate profile
 * gives λ(t); arrivals are a non-homogeneous Poisson process drawn by thinning (Lewis–Shedler)
 * from their own seeded stream, and each arrival draws its session length from another, so the
 * same seed yields the same claims whatever the pool does. A trace replays recorded claims.
 */
import { Prng } from "./prng.js";

const DAY_MS = 86_400_000;

export type RateProfile =
  | { kind: "constant"; ratePerS: number }
  /** Smooth day/night cycle: mean rate, peak/trough ratio, hour of the peak (0–24). */
  | { kind: "diurnal"; meanPerS: number; peakToTrough: number; peakHour: number }
  /** A base rate with bursts at random times: `multiplier` × base for `burstMs`, reached over `rampMs`. */
  | {
      kind: "bursty";
      baseRatePerS: number;
      burstsPerDay: number;
      multiplier: number;
      burstMs: number;
      rampMs: number;
    };

export interface SessionModel {
  /** Lognormal session length (claim held before release). */
  medianMs: number;
  sigma: number;
}

export interface Arrival {
  atMs: number;
  sessionMs: number;
}

/** A source of claims in time order; `undefined` when it has no more before the horizon. */
export interface ArrivalSource {
  next(): Arrival | undefined;
  /** λ(t) in claims/s, for charts (traces answer their empirical rate). */
  rateAt(tMs: number): number;
}

/** Rate function of a profile over [0, durationMs), with the burst schedule drawn from the seed. */
export function rateFunction(
  profile: RateProfile,
  durationMs: number,
  seed: number,
): { rateAt: (tMs: number) => number; maxRate: number } {
  switch (profile.kind) {
    case "constant":
      return { rateAt: () => profile.ratePerS, maxRate: profile.ratePerS };
    case "diurnal": {
      // λ(t) = mean · (1 + a·cos(2π(h − peak)/24)), a = (r − 1)/(r + 1) so peak/trough = r.
      const a = (profile.peakToTrough - 1) / (profile.peakToTrough + 1);
      const peakMs = profile.peakHour * 3_600_000;
      return {
        rateAt: (t) => profile.meanPerS * (1 + a * Math.cos((2 * Math.PI * (t - peakMs)) / DAY_MS)),
        maxRate: profile.meanPerS * (1 + a),
      };
    }
    case "bursty": {
      const rng = new Prng(seed, "bursts");
      const n = Math.round((profile.burstsPerDay * durationMs) / DAY_MS);
      const starts = Array.from(
        { length: n },
        () => rng.next() * Math.max(0, durationMs - profile.burstMs),
      ).sort((x, y) => x - y);
      const extra = profile.baseRatePerS * (profile.multiplier - 1);
      const shape = (dt: number): number => {
        if (dt < 0 || dt >= profile.burstMs) return 0;
        const ramp = profile.rampMs;
        if (ramp > 0 && dt < ramp) return dt / ramp;
        if (ramp > 0 && dt > profile.burstMs - ramp) return (profile.burstMs - dt) / ramp;
        return 1;
      };
      return {
        rateAt: (t) => {
          let f = 0;
          for (const s of starts) {
            if (s > t) break;
            f = Math.max(f, shape(t - s));
          }
          return profile.baseRatePerS + extra * f;
        },
        maxRate: profile.baseRatePerS * profile.multiplier,
      };
    }
  }
}

/** Poisson arrivals under a rate profile, each with a lognormal session. */
export function poissonArrivals(
  profile: RateProfile,
  session: SessionModel,
  durationMs: number,
  seed: number,
): ArrivalSource {
  const { rateAt, maxRate } = rateFunction(profile, durationMs, seed);
  const arrivals = new Prng(seed, "arrivals");
  const sessions = new Prng(seed, "sessions");
  let t = 0;
  return {
    rateAt,
    next() {
      if (!(maxRate > 0)) return undefined;
      for (;;) {
        t += arrivals.exponential(1000 / maxRate);
        if (t >= durationMs) return undefined;
        if (arrivals.next() * maxRate < rateAt(t)) {
          return { atMs: t, sessionMs: sessions.lognormal(session.medianMs, session.sigma) };
        }
      }
    },
  };
}

/** Replays recorded claims (already sorted, within the horizon). */
export function traceArrivals(
  claims: readonly Arrival[],
  durationMs: number,
  bucketMs = 300_000,
): ArrivalSource {
  let i = 0;
  const counts = new Map<number, number>();
  for (const c of claims) {
    const b = Math.floor(c.atMs / bucketMs);
    counts.set(b, (counts.get(b) ?? 0) + 1);
  }
  return {
    rateAt: (t) => ((counts.get(Math.floor(t / bucketMs)) ?? 0) * 1000) / bucketMs,
    next() {
      const c = claims[i];
      if (c === undefined || c.atMs >= durationMs) return undefined;
      i++;
      return c;
    },
  };
}
