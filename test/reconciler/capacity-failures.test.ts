import { Registry } from "prom-client";
import { afterAll, describe, expect, it } from "vitest";
import { containerInstanceOf, observeEcs } from "../../pkg/ecs/index.js";
import { createMetrics } from "../../pkg/metrics/index.js";
import { waitFor } from "../harness/index.js";
import { metricValue, setDesired, startWorld, type World } from "./env.js";

describe("RunTask capacity failures reach the capacity pass (EC2 group over the emulator)", () => {
  let w: World | undefined;
  afterAll(async () => {
    await w?.close();
  });

  it("a cluster with no instance: the thrown No Container Instances is a capacity failure; the group grows and the pool fills", async () => {
    w = await startWorld({
      emulator: {
        autoScaling: {
          groups: [
            {
              name: "empty-group",
              minSize: 0,
              maxSize: 5,
              desiredCapacity: 0,
              cluster: "default",
              capacity: { cpu: 2048, memory: 4096 },
            },
          ],
        },
      },
    });
    const world = w;
    const metrics = createMetrics(new Registry(), { defaults: false });
    await setDesired(world, {
      minWarm: 2,
      maxWarm: 10,
      replenishThreshold: 1,
      asg: { groupName: "empty-group", tasksPerInstance: 5, poolState: "Stopped" },
    });
    const rec = await world.startReconciler({ "launch-type": "EC2" }, metrics);
    let capacityFailuresSeen = 0;
    await waitFor(
      "2 warm",
      async () => {
        capacityFailuresSeen = Math.max(
          capacityFailuresSeen,
          rec.reconciler.snapshot().asg?.capacityFailures ?? 0,
        );
        return (await world.states()).warm === 2;
      },
      30_000,
    );
    // The thrown error was counted and handed to the capacity pass as NO_CONTAINER_INSTANCE.
    const failures = await metricValue(metrics, "runTaskFailuresTotal", {
      pool: world.pool,
      reason: "NO_CONTAINER_INSTANCE",
    });
    expect(failures).toBeGreaterThanOrEqual(1);
    expect(capacityFailuresSeen).toBeGreaterThanOrEqual(1);
    expect(world.emu.control.calls().SetDesiredCapacity?.ok ?? 0).toBeGreaterThanOrEqual(1);

    // Observed tasks carry the container instance hosting them (ground truth: the emulator).
    const seen = await observeEcs(rec.driver, {});
    const truth = new Map(world.live().map((t) => [t.taskId, t.containerInstanceArn]));
    const live = seen.tasks.filter((t) => truth.has(t.taskId));
    expect(live).toHaveLength(2);
    for (const t of live) {
      expect(containerInstanceOf(t)).toMatch(/container-instance\//);
      expect(containerInstanceOf(t)).toBe(truth.get(t.taskId));
    }
  });
});
