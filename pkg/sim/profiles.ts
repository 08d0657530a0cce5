/**
 * Named demand presets, so a comparison can be rerun by name: `constant`, `diurnal` (a smooth
 * day with a 8× peak-to-trough swing peaking at 15:00) and `bursty` (a steady base with eight
 * 15-minute bursts at 4× a day, at random times, each reached over a one-minute ramp). All three
 * average about the given rate (default 1 claim/s).
 */
import type { RateProfile } from "./demand.js";

export const PROFILE_NAMES = ["constant", "diurnal", "bursty"] as const;
export type ProfileName = (typeof PROFILE_NAMES)[number];

export interface ProfileKnobs {
  ratePerS?: number;
  peakToTrough?: number;
  peakHour?: number;
  burstsPerDay?: number;
  burstMultiplier?: number;
  burstMs?: number;
  rampMs?: number;
}

export function profile(name: ProfileName, k: ProfileKnobs = {}): RateProfile {
  const rate = k.ratePerS ?? 1;
  switch (name) {
    case "constant":
      return { kind: "constant", ratePerS: rate };
    case "diurnal":
      return {
        kind: "diurnal",
        meanPerS: rate,
        peakToTrough: k.peakToTrough ?? 8,
        peakHour: k.peakHour ?? 15,
      };
    case "bursty": {
      const burstsPerDay = k.burstsPerDay ?? 8;
      const multiplier = k.burstMultiplier ?? 4;
      const burstMs = k.burstMs ?? 900_000;
      const rampMs = k.rampMs ?? 60_000;
      // Base chosen so the day's mean is `rate`: base · (1 + (m − 1) · share of the day in bursts).
      const share = (burstsPerDay * (burstMs - rampMs)) / 86_400_000;
      return {
        kind: "bursty",
        baseRatePerS: rate / (1 + (multiplier - 1) * share),
        burstsPerDay,
        multiplier,
        burstMs,
        rampMs,
      };
    }
  }
}
