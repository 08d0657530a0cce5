import { ECSClient, RunTaskCommand } from "@aws-sdk/client-ecs";
import { afterEach, describe, expect, it } from "vitest";
import { PoolStore } from "../../pkg/claims/index.js";
import type { StatusSnapshot } from "../../pkg/reconciler/index.js";
import { ctl } from "../ctl/env.js";
import { waitFor } from "../harness/index.js";
import { setDesired, startWorld, type World } from "./env.js";

/**
 * A reconciler started with a task definition ECS does not have (a deploy typo) cannot launch,
 * but the rest of every pass still happens: a draining task is still stopped. The pass reports
 * the error; nothing is launched. Counted from the emulator.
 */
describe("a task definition ECS does not have (real Redis, emulator over HTTP)", () => {
  let w: World | undefined;
  afterEach(async () => {
    await w?.close();
    w = undefined;
  });

  it("launches nothing, still stops draining tasks, and says why in status", async () => {
    w = await startWorld();
    const world = w;
    await setDesired(world, { minWarm: 2, maxWarm: 5, replenishThreshold: 1 });
    const ecs = new ECSClient({ endpoint: world.emu.endpoint, region: "us-east-1", maxAttempts: 1 });
    const run = await ecs.send(
      new RunTaskCommand({
        cluster: "default",
        taskDefinition: world.taskDefinitionArn,
        startedBy: world.pool,
      }),
    );
    ecs.destroy();
    const taskId = run.tasks?.[0]?.taskArn?.split("/").pop() as string;
    await waitFor("the task registered warm", async () => (await world.states()).warm === 1, 10_000);
    expect(await new PoolStore(world.redis, world.pool).cordon(taskId, "released")).toBe(true);

    await world.startReconciler({ "task-definition": "missing-family", "resync-interval": "200ms" });
    await waitFor("the draining task stopped", () => world.live().length === 0, 10_000);
    expect(world.emu.control.task(taskId)?.stoppedReason).toBe("warmpool: released");
    const s = await waitFor(
      "a pass reporting the task definition",
      async () => {
        const v = JSON.parse((await world.redis.get(world.keys.status)) ?? "null") as StatusSnapshot | null;
        return v?.lastPass?.result === "error" ? v : undefined;
      },
      10_000,
    );
    expect(s.lastErrors.map((e) => e.message).join("\n")).toMatch(
      /resolving task definition missing-family: .*Unable to describe task definition/,
    );
    await new Promise((r) => setTimeout(r, 1_500)); // several more passes
    expect(world.launches()).toHaveLength(1); // only the one started by hand
    // On-call's probe: passes that keep failing are as unhealthy as no pass at all.
    expect(s.failingSinceMs).toBeGreaterThan(0);
    const r = await ctl([
      "ctl",
      "status",
      "--stale-after",
      "1",
      "--redis-url",
      world.redisServer.url,
      "--pool",
      world.pool,
    ]);
    expect(r.code).toBe(11);
    expect(r.out).toMatch(/no pass has succeeded for \d+s \(stale after 1s\): the last ended error/);
  });
});
