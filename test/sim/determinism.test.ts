import { describe, expect, it } from "vitest";
import { DEFAULT_ADAPTIVE, ORIGIN_DESIRED, runSim } from "../../pkg/sim/index.js";
import { shortScenario } from "./helpers.js";

describe("warmpool sim is a function of its seed", () => {
  it("the same seed gives the same run, to the last number (static and adaptive)", () => {
    for (const s of [
      shortScenario(),
      shortScenario({ desired: { ...ORIGIN_DESIRED, minWarm: 3, maxWarm: 100 }, policy: DEFAULT_ADAPTIVE }),
    ]) {
      const a = runSim(s, { keepLedger: true });
      const b = runSim(s, { keepLedger: true });
      expect(JSON.stringify(b.result)).toBe(JSON.stringify(a.result));
      expect(b.ledger.claims).toEqual(a.ledger.claims);
      expect(a.result.claims).toBeGreaterThan(5_000);
    }
  });

  it("another seed gives other claims", () => {
    const a = runSim(shortScenario()).result;
    const b = runSim(shortScenario({ seed: 8 })).result;
    expect(b.claims).not.toBe(a.claims);
  });

  it("the policy does not change the demand: every policy sees the same claims", () => {
    const a = runSim(shortScenario()).result;
    const b = runSim(
      shortScenario({ desired: { ...ORIGIN_DESIRED, minWarm: 3, maxWarm: 100 }, policy: DEFAULT_ADAPTIVE }),
    ).result;
    expect(b.claims).toBe(a.claims);
    expect(b.series.demandPerS).toEqual(a.series.demandPerS);
  });
});
