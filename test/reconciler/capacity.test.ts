import { afterAll, describe, expect, it } from "vitest";
import { createContext, gatherStatus, renderStatus } from "../../pkg/ctl/index.js";
import type { StatusSnapshot } from "../../pkg/reconciler/index.js";
import { waitFor } from "../harness/index.js";
import { setDesired, startWorld, type World } from "./env.js";

describe("reconciler runs the Auto Scaling pass after the task pass", () => {
  let w: World | undefined;
  afterAll(async () => {
    await w?.close();
  });

  it("with an `asg` block: the group is observed through the same endpoint and the pass is in status", async () => {
    w = await startWorld({
      emulator: {
        autoScaling: {
          groups: [
            {
              name: "pool-group",
              minSize: 0,
              maxSize: 10,
              desiredCapacity: 1,
              cluster: "default",
              capacity: { cpu: 2048, memory: 4096 },
            },
          ],
        },
      },
    });
    const world = w;
    await setDesired(world, {
      minWarm: 5,
      maxWarm: 20,
      asg: { groupName: "pool-group", tasksPerInstance: 5, poolState: "Hibernated" },
    });
    await world.startReconciler();
    await waitFor("5 warm", async () => (await world.states()).warm === 5, 20_000);
    const status = await waitFor(
      "a capacity pass in status",
      async () => {
        const s = JSON.parse((await world.redis.get(world.keys.status)) ?? "null") as StatusSnapshot | null;
        return s?.capacity ? s : undefined;
      },
      10_000,
    );
    expect(status.capacity?.groupName).toBe("pool-group");
    expect(status.capacity?.errors).toEqual([]);
    // The CapacityReconciler's result as is, and the revision new tasks run, for `ctl status`.
    expect(status.asg?.groupName).toBe("pool-group");
    expect(status.asg?.plan.reason).toEqual(expect.any(String));
    expect(Object.values(status.asg?.plan.instances ?? {}).reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
    expect(status.revision).toBe(world.taskDefinitionArn);
    const io = {
      out: () => undefined,
      err: () => undefined,
      isTTY: false,
      color: false,
      columns: 200,
      env: {},
    };
    const report = await gatherStatus(createContext({ redis: world.redis, pool: world.pool, io }));
    const text = renderStatus(report, io);
    expect(text).toMatch(/asg\s+pool-group\s+instances \[/);
    expect(report.revisions.find((r) => r.target)?.revision).toBe(world.taskDefinitionArn);
    const calls = world.emu.control.calls();
    expect(calls.DescribeAutoScalingGroups?.ok ?? 0).toBeGreaterThan(0);
  });
});
