/**
 * A task record in a state the pool does not know (a newer release's state, a hand edit) is
 * neither claimable nor stoppable: the real reconciler, over the ECS emulator, leaves its task
 * running. It used to be read as `draining`, which stops a task without a cordon — possibly under
 * a user. Counted from the emulator (ground truth), not from the reconciler's report.
 */
import { afterEach, describe, expect, it } from "vitest";
import { PoolStore } from "../../pkg/claims/index.js";
import { waitFor } from "../harness/index.js";
import { setDesired, startWorld, type World } from "../reconciler/env.js";

describe("a record in an unknown state", () => {
  let w: World | undefined;
  afterEach(async () => {
    await w?.close();
    w = undefined;
  });

  it("is left out of planning: its task is never stopped, and it is reported", async () => {
    w = await startWorld();
    const world = w;
    await setDesired(world, { minWarm: 2, maxWarm: 10, replenishThreshold: 1 });
    // A hand edit is not announced on the events stream, so the record cache sees it at its next
    // full re-read of the records (`--record-reread-interval`, 5 min by default; short here).
    await world.startReconciler({
      "resync-interval": "200ms",
      "visibility-grace": "1s",
      "record-reread-interval": "1s",
    });
    await waitFor("2 warm", async () => (await world.states()).warm === 2, 20_000);
    const victim = world.live()[0]!;
    await world.redis.hset(world.keys.task(victim.taskId), "state", "quarantined");

    const store = new PoolStore(world.redis, world.pool);
    const seen = await store.observe();
    expect(seen.records.map((r) => r.taskId)).not.toContain(victim.taskId);
    expect(seen.unrecognized).toEqual([{ taskId: victim.taskId, state: "quarantined" }]);

    // Many passes, well past the orphan grace: the task must still run.
    await waitFor("a replacement warm task", async () => (await world.states()).warm === 2, 20_000);
    await new Promise((r) => setTimeout(r, 2_500));
    const live = world.live().map((t) => t.taskArn);
    expect(live, "the task of the unknown-state record was stopped").toContain(victim.taskArn);
    expect(await world.redis.hget(world.keys.task(victim.taskId), "state")).toBe("quarantined");
    // And the orphan path's guard refuses it: a record exists.
    expect(await store.markOrphan(victim.taskId, victim.taskArn)).toBe(false);
  });
});
