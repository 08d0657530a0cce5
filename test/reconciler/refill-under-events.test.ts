import { ECSClient, StopTaskCommand } from "@aws-sdk/client-ecs";
import { Registry } from "prom-client";
import { afterEach, describe, expect, it } from "vitest";
import { createMetrics } from "../../pkg/metrics/index.js";
import { waitFor } from "../harness/index.js";
import { histogramTotals, setDesired, startWorld, type World } from "./env.js";

/**
 * The refill-starvation regression: under a steady stream of events (faster than the resync
 * interval) every pass used to be event-triggered, and with idle between replenishThreshold and
 * minWarm the planner left the refill to a resync that never came.
 */
describe("refill under a steady stream of events (real Redis, emulator over HTTP)", () => {
  let w: World | undefined;
  let feeder: NodeJS.Timeout | undefined;
  afterEach(async () => {
    clearInterval(feeder);
    await w?.close();
    w = undefined;
  });

  it("an event every 100 ms with a 1 s resync: idle 3 (threshold 2, minWarm 6) still refills to 6", async () => {
    w = await startWorld();
    const world = w;
    await setDesired(world, { minWarm: 6, maxWarm: 20, replenishThreshold: 2 });
    const metrics = createMetrics(new Registry(), { defaults: false });
    const rec = await world.startReconciler({ "resync-interval": "1s" }, metrics);
    await waitFor("6 warm", async () => (await world.states()).warm === 6, 30_000);
    expect(world.launches()).toHaveLength(6);
    // The histograms as they stand once a pass has seen the pool full (the initial fill's refill
    // ended there): what follows is the refill after the stops below.
    const refills = () => histogramTotals(metrics, "refillDuration", { pool: world.pool });
    await waitFor("a pass that saw the pool full", async () => (await refills()).count >= 1, 10_000);
    const refillsBefore = (await refills()).count;

    // A steady stream of events: each wakes a pass well before the 1 s resync would.
    feeder = setInterval(() => {
      void world.redis
        .xadd(world.keys.events, "*", "type", "release", "taskId", "none")
        .catch(() => undefined);
    }, 100);
    const ecs = new ECSClient({ endpoint: world.emu.endpoint, region: "us-east-1" });
    for (const t of world.live().slice(0, 3)) {
      await ecs.send(new StopTaskCommand({ cluster: "default", task: t.taskArn, reason: "out of band" }));
    }
    ecs.destroy();
    const passesBefore = rec.reconciler.passes;

    // Ground truth: three replacements launched by the emulator, and six warm records again.
    await waitFor("3 replacements launched", () => world.launches().length === 9, 30_000);
    await waitFor("6 warm again", async () => (await world.states()).warm === 6, 30_000);
    expect(world.live()).toHaveLength(6);
    // The stream really drives the loop: many more passes than 1 s resyncs alone would give (with
    // the event feed the refill itself can be over within a few passes).
    await waitFor("passes driven by the stream", () => rec.reconciler.passes - passesBefore > 5, 3_000);
    expect(rec.reconciler.trigger.eventsSeen).toBeGreaterThan(5);
    // The refill is measured: from the first pass below target to the first pass back at it.
    await waitFor("the refill observed", async () => (await refills()).count > refillsBefore, 10_000);
    expect((await refills()).sum).toBeGreaterThan(0);
    // Each task's start is observed once, by the first pass that sees it warm: the six of the
    // initial fill and the three replacements. A few more passes must not count any again.
    const starts = () => histogramTotals(metrics, "taskStartDuration", { pool: world.pool });
    await waitFor("9 task starts observed", async () => (await starts()).count >= 9, 10_000);
    const passes = rec.reconciler.passes;
    await waitFor("3 more passes", () => rec.reconciler.passes >= passes + 3, 10_000);
    expect((await starts()).count).toBe(9);
  });
});
