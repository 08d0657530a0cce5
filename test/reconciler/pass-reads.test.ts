import { afterEach, describe, expect, it } from "vitest";
import { waitFor } from "../harness/index.js";
import { setDesired, startWorld, type World } from "./env.js";

/**
 * A pass reads the records that changed, not every record (docs/reconciler.md, "The record
 * cache"): with 30 warm tasks, passes in steady state and around a claim, released and replaced,
 * fetch a handful of records from Redis, counted by the Redis server itself (HGETALL calls). The
 * same scenario with `--observe=list` (every pass reads every record) fetches 30 a pass: the check
 * sees the difference.
 */
describe("passes read Redis by change (real Redis, emulator over HTTP)", () => {
  let w: World | undefined;
  afterEach(async () => {
    await w?.close();
    w = undefined;
  });

  const hgetalls = async (world: World): Promise<number> => {
    const info = await world.redis.info("commandstats");
    return Number(/^cmdstat_hgetall:calls=(\d+)/m.exec(info)?.[1] ?? 0);
  };

  it.each(["cache", "list"] as const)("%s", async (observe) => {
    w = await startWorld({ feed: false });
    const world = w;
    await setDesired(world, { minWarm: 30, maxWarm: 30, replenishThreshold: 30, maxTasks: 40 });
    const rec = await world.startReconciler({ observe, "resync-interval": "200ms" });
    await waitFor("30 warm", async () => (await world.states()).warm === 30, 30_000);
    const p0 = rec.reconciler.passes;
    const h0 = await hgetalls(world);
    // A claim of one warm task, as the gateway does it, then its release: both are stream entries.
    const id = (await world.redis.zrange(world.keys.warm, 0, 0))[0]!;
    await world.redis.hset(world.keys.task(id), { state: "draining", drainReason: "released" });
    await world.redis.zrem(world.keys.warm, id);
    await world.redis.xadd(world.keys.events, "*", "type", "release", "taskId", id);
    await waitFor("the released task replaced", async () => (await world.states()).warm === 30, 20_000);
    await waitFor("its record forgotten", async () => (await world.states()).draining === undefined, 20_000);
    await waitFor("several passes", () => rec.reconciler.passes >= p0 + 8, 20_000);
    const passes = rec.reconciler.passes - p0;
    const fetched = (await hgetalls(world)) - h0;
    if (observe === "cache") {
      // The released task (released, stopped, forgotten) and its replacement (launched,
      // registered): a few reads each, whatever the number of passes and of records.
      expect(fetched).toBeLessThan(20);
    } else {
      // Every pass reads every record (29 or 30 of them; the first pass counted may have begun before).
      expect(fetched).toBeGreaterThanOrEqual(29 * (passes - 1));
    }
  });
});
