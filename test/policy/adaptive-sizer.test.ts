import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { DEFAULT_DESIRED, type DesiredState } from "../../pkg/config/index.js";
import { createMetrics } from "../../pkg/metrics/index.js";
import { AdaptiveSizer } from "../../pkg/reconciler/adaptive-sizer.js";

const desired: DesiredState = {
  ...DEFAULT_DESIRED,
  minWarm: 1,
  maxWarm: 50,
  replenishThreshold: 0,
  policy: "adaptive",
  adaptive: { windowSeconds: 10, targetHitRate: 0.99, scaleDownDelaySeconds: 600 },
};

async function arrivalRate(events: { type: string; atMs: number; claimId?: string }[]): Promise<number> {
  const metrics = createMetrics(new Registry(), { defaults: false });
  const sizer = new AdaptiveSizer("p", 1_000, metrics);
  const now = 1_800_000_000_000;
  sizer.apply(desired, now - 10_000); // sizes the window
  sizer.onEvents(events.map((e) => ({ ...e, atMs: now - 5_000 + e.atMs })));
  sizer.apply(desired, now);
  const v = (await metrics.policyArrivalRate.get()).values[0];
  return v?.value ?? NaN;
}

describe("AdaptiveSizer: demand from the events stream", () => {
  it("a queued claim (miss, then claim when a task served it) is one arrival, not two", async () => {
    const warm = Array.from({ length: 20 }, (_, i) => ({ type: "claim", atMs: i * 10, claimId: `w${i}` }));
    const queued = Array.from({ length: 20 }, (_, i) => [
      { type: "miss", atMs: i * 10, claimId: `q${i}` },
      { type: "claim", atMs: i * 10 + 5, claimId: `q${i}` },
    ]).flat();
    const other = [
      { type: "register", atMs: 1 },
      { type: "release", atMs: 2, claimId: "w0" },
    ];
    const onlyWarm = await arrivalRate(warm);
    expect(onlyWarm).toBeGreaterThan(0);
    // 20 warm + 20 queued claims: twice the warm-only rate, not three times.
    expect(await arrivalRate([...warm, ...queued, ...other])).toBeCloseTo(2 * onlyWarm, 6);
    // Entries without a claimId still count (older writers), each once.
    const anonymous = warm.map(({ type, atMs }) => ({ type, atMs }));
    expect(await arrivalRate(anonymous)).toBeCloseTo(onlyWarm, 6);
  });
});
