import { afterEach, describe, expect, it } from "vitest";
import { waitFor } from "../harness/index.js";
import { metricValue, setDesired, startWorld, type World } from "./env.js";

/**
 * A reconciler whose lease was taken over while it still trusts it locally (its lease is valid
 * for many seconds more, as after a long GC pause or a partition that healed) acts on a change of
 * the desired state: every Redis write of its pass carries its epoch, Redis refuses the first one,
 * and the pass is abandoned before any StopTask. Counted from the emulator and Redis.
 */
describe("a deposed reconciler is fenced off by the epoch (real Redis, emulator over HTTP)", () => {
  let w: World | undefined;
  afterEach(async () => {
    await w?.close();
    w = undefined;
  });

  it("cordons nothing and stops nothing once a newer term began, then steps down", async () => {
    w = await startWorld();
    const world = w;
    await setDesired(world, { minWarm: 3, maxWarm: 10, replenishThreshold: 1 });
    // A 30 s lease renewed every 10 s: the takeover below goes unnoticed by the lease loop for a while.
    const rec = await world.startReconciler({ "resync-interval": "200ms", "lease-ttl": "30s" });
    await waitFor("3 warm", async () => (await world.states()).warm === 3, 20_000);
    const epoch = Number(await world.redis.get(world.keys.epoch));
    expect(rec.reconciler.lease.epoch).toBe(epoch);

    // Another replica's term begins, as acquire-2.lua would do once it saw the key expire.
    await world.redis.multi().set(world.keys.leader, "usurper", "PX", 60_000).incr(world.keys.epoch).exec();
    const skippedBefore = await metricValue(rec.metrics, "reconcileTotal", {
      pool: world.pool,
      result: "skipped",
    });
    // Down to one warm task: the old leader's next pass (woken at once by the key change) wants to
    // cordon and stop two of them.
    await setDesired(world, { minWarm: 1, maxWarm: 1, replenishThreshold: 0 });
    await new Promise((r) => setTimeout(r, 1_500)); // that pass and several resync intervals

    expect(world.emu.control.calls().StopTask?.ok ?? 0).toBe(0);
    expect(world.live()).toHaveLength(3);
    expect(await world.states()).toEqual({ warm: 3 });
    // The refused write made it ask Redis about its lease at once, instead of at the next renew.
    expect(rec.reconciler.lease.held).toBe(false);
    expect(await world.redis.get(world.keys.leader)).toBe("usurper");
    expect(
      await metricValue(rec.metrics, "reconcileTotal", { pool: world.pool, result: "skipped" }),
    ).toBeGreaterThan(skippedBefore);
  });
});
