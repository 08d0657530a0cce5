import { describe, expect, it } from "vitest";
import type { PlanFn } from "../../pkg/plan/index.js";
import { plan } from "../../pkg/plan/index.js";
import { DEFAULT_ADAPTIVE, ORIGIN_DESIRED, simulate, type Ledger } from "../../pkg/sim/index.js";
import { shortScenario } from "./helpers.js";

/** Recounts the invariants from the raw history, not from the simulator's own counters. */
function recount(ledger: Ledger) {
  const servedBy = new Map<string, number>();
  for (const c of ledger.claims) if (c.taskId) servedBy.set(c.taskId, (servedBy.get(c.taskId) ?? 0) + 1);
  const servedTwice = [...servedBy.values()].filter((n) => n > 1).length;
  const claimedAt = new Map<string, number>();
  let warmAfterClaim = 0;
  for (const t of ledger.transitions) {
    if (t.to === "claimed" && !claimedAt.has(t.taskId)) claimedAt.set(t.taskId, t.atMs);
    if (t.to === "warm" && claimedAt.has(t.taskId)) warmAfterClaim++;
  }
  return { servedTwice, warmAfterClaim, claimedTasks: claimedAt.size };
}

describe("conservation: no task serves two claims, a claimed task is never warm again", () => {
  it.each([
    { name: "static, small pool (many misses)", over: { desired: { ...ORIGIN_DESIRED } } },
    {
      name: "adaptive",
      over: { desired: { ...ORIGIN_DESIRED, minWarm: 3, maxWarm: 100 }, policy: DEFAULT_ADAPTIVE },
    },
  ])("$name", ({ over }) => {
    const { result, ledger } = simulate(shortScenario(over), { plan, keepLedger: true });
    const r = recount(ledger);
    expect(r.servedTwice).toBe(0);
    expect(r.warmAfterClaim).toBe(0);
    expect(result.violations).toEqual({ servedTwice: 0, warmAfterClaim: 0, liveClaimStopped: 0 });
    // Every claim is accounted for: served exactly once, or still queued at the end.
    const served = ledger.claims.length;
    expect(served + result.unserved).toBe(result.claims);
    expect(r.claimedTasks).toBe(served);
    expect(result.hits + result.misses).toBe(result.claims);
    expect(result.misses).toBeGreaterThan(0); // the run did exercise the waiting queue
    // Task-hours: busy never exceeds total; every released task was stopped for "released".
    expect(result.busyTaskHours).toBeLessThanOrEqual(result.totalTaskHours);
    expect(result.stopsByReason["released"] ?? 0).toBeGreaterThan(0);
  });

  it("catches a planner that stops claimed tasks (the check can fail)", () => {
    const rogue: PlanFn = (d, o, now, t) => {
      const p = plan(d, o, now, t);
      const victim = o.records.find((r) => r.state === "claimed");
      if (victim?.taskArn)
        p.actions.push({ kind: "stop", taskId: victim.taskId, taskArn: victim.taskArn, reason: "drain" });
      return p;
    };
    const { result } = simulate(shortScenario({ durationMs: 600_000 }), { plan: rogue });
    expect(result.violations.liveClaimStopped).toBeGreaterThan(0);
  });
});
