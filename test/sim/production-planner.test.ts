import { describe, expect, it } from "vitest";
import * as planner from "../../pkg/plan/index.js";
import type { PlanFn } from "../../pkg/plan/index.js";
import { ORIGIN_DESIRED, productionPlan, runSim, simulate } from "../../pkg/sim/index.js";
import { shortScenario } from "./helpers.js";

describe("the simulator runs the production planner", () => {
  it("binds the very function pkg/plan exports", () => {
    expect(productionPlan).toBe(planner.plan);
  });

  it("runSim behaves exactly as the real planner, and unlike a naive one", () => {
    const s = shortScenario({
      durationMs: 3_600_000,
      desired: { ...ORIGIN_DESIRED, minWarm: 12, maxWarm: 20 },
    });
    const viaRunSim = runSim(s).result;
    const viaPlan = simulate(s, { plan: planner.plan }).result;
    expect(JSON.stringify(viaRunSim)).toBe(JSON.stringify(viaPlan));

    // A naive planner that refills to minWarm on every pass, ignoring the replenishThreshold
    // rule (event-triggered passes leave refills above the threshold to the resync): the real
    // planner batches launches, so it makes fewer RunTask calls for the same demand.
    const naive: PlanFn = (d, o, now, t) => {
      const p = planner.plan(d, { ...o, eventTriggered: false }, now, t);
      return p;
    };
    const viaNaive = simulate(s, { plan: naive }).result;
    expect(viaNaive.runTaskCalls).toBeGreaterThan(viaRunSim.runTaskCalls);
    expect(viaRunSim.passes.event).toBeGreaterThan(0);
  });
});
