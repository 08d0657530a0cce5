import { ORIGIN_DESIRED, defaultScenario, profile, type Scenario } from "../../pkg/sim/index.js";

/** A few simulated hours of a named profile: long enough to exercise every path, quick to run. */
export function shortScenario(
  over: Partial<Scenario> = {},
  name: "constant" | "diurnal" | "bursty" = "bursty",
): Scenario {
  return defaultScenario({
    seed: 7,
    durationMs: 2 * 3_600_000,
    demand: {
      kind: "poisson",
      profile: profile(name, { ratePerS: 1, burstsPerDay: 24 }),
      session: { medianMs: 60_000, sigma: 0.7 },
    },
    desired: { ...ORIGIN_DESIRED, minWarm: 10, maxWarm: 20 },
    sampleMs: 600_000,
    ...over,
  });
}
