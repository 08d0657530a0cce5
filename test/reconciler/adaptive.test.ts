import { Registry } from "prom-client";
import { afterEach, describe, expect, it } from "vitest";
import { createMetrics } from "../../pkg/metrics/index.js";
import { waitFor } from "../harness/index.js";
import { histogramTotals, metricValue, setDesired, startWorld, type World } from "./env.js";

const ADAPTIVE = { windowSeconds: 10, targetHitRate: 0.995, scaleDownDelaySeconds: 600 };

describe("adaptive policy in the reconciler (real Redis, emulator over HTTP)", () => {
  let w: World | undefined;
  afterEach(async () => {
    await w?.close();
    w = undefined;
  });

  it("a burst of claim events raises the warm target above minWarm, and the pool follows it", async () => {
    w = await startWorld();
    const world = w;
    const metrics = createMetrics(new Registry(), { defaults: false });
    const pool = { pool: world.pool };
    await setDesired(world, {
      minWarm: 2,
      maxWarm: 20,
      replenishThreshold: 1,
      policy: "adaptive",
      adaptive: ADAPTIVE,
    });
    const rec = await world.startReconciler({}, metrics);
    await waitFor("2 warm", async () => (await world.states()).warm === 2, 30_000);
    // No demand yet: the target is the floor.
    expect(rec.reconciler.snapshot().target).toBe(2);
    expect(await metricValue(metrics, "policyTarget", pool)).toBe(2);
    expect(await metricValue(metrics, "policyArrivalRate", pool)).toBe(0);
    // The two starts were measured (RunTask → registered), feeding the policy's p90.
    await waitFor(
      "start durations observed",
      async () => (await histogramTotals(metrics, "taskStartDuration", pool)).count >= 2,
    );

    // 60 claims within about a second: 6/s over a 10 s window.
    for (let i = 0; i < 60; i++) {
      await world.redis.xadd(
        world.keys.events,
        "*",
        "type",
        i % 5 === 0 ? "miss" : "claim",
        "claimId",
        `c${i}`,
      );
      await new Promise((r) => setTimeout(r, 15));
    }
    await waitFor("target above minWarm", () => (rec.reconciler.snapshot().target ?? 0) > 2, 10_000);
    const target = rec.reconciler.snapshot().target ?? 0;
    expect(await metricValue(metrics, "policyArrivalRate", pool)).toBeGreaterThan(2);
    expect(await metricValue(metrics, "policyRawTarget", pool)).toBeGreaterThan(2);
    expect(await metricValue(metrics, "policyExpectedDemand", pool)).toBeGreaterThan(0);
    expect(await metricValue(metrics, "policyStartP90", pool)).toBeGreaterThan(0);
    expect(rec.reconciler.snapshot().adaptive?.explanation).toMatch(/^adaptive target \d+: /);
    // Ground truth: the emulator launched beyond the floor, and Redis holds more than 2 warm.
    await waitFor("more than 2 warm in Redis", async () => (await world.states()).warm! > 2, 30_000);
    expect(world.launches().length).toBeGreaterThan(2);
    expect(world.launches().length).toBeLessThanOrEqual(20);
    expect(target).toBeLessThanOrEqual(20);

    // A new leader reads the demand the stream still holds: its first target is not the floor.
    await rec.stop();
    const next = await world.startReconciler({}, createMetrics(new Registry(), { defaults: false }));
    await waitFor("the new leader's first pass", () => next.reconciler.passes > 0, 15_000);
    expect(next.reconciler.snapshot().target ?? 0).toBeGreaterThan(2);
    expect(next.reconciler.snapshot().adaptive?.explanation).toMatch(/^adaptive target \d+: /);
  });
});
