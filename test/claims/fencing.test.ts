import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ClaimKeys, FencedError, PoolStore, TaskChannel } from "../../pkg/claims/index.js";
import { startPrivateRedis, uniquePool, type PrivateRedis } from "../harness/index.js";
import { registerWarm } from "./stand-in.js";

/**
 * The reconciler's Redis writes carry its lease epoch: once a newer term began (the pool's `epoch`
 * moved on), a deposed reconciler's cordon, expire, forget, record-launch and mark-orphan change nothing and
 * throw FencedError. Checked against a real Redis by dumping every key of the pool before and after.
 */
let server: PrivateRedis;
let redis: Redis;
beforeAll(async () => {
  server = await startPrivateRedis();
  redis = new Redis(server.url);
});
afterAll(async () => {
  redis?.disconnect();
  await server?.stop();
});

async function dump(keys: ClaimKeys): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for (const k of (await redis.keys(`${keys.prefix}*`)).sort()) {
    const type = await redis.type(k);
    if (type === "hash") out[k] = await redis.hgetall(k);
    else if (type === "zset") out[k] = await redis.zrange(k, 0, -1, "WITHSCORES");
    else if (type === "set") out[k] = (await redis.smembers(k)).sort();
    else if (type === "list") out[k] = await redis.lrange(k, 0, -1);
    else if (type === "stream") out[k] = await redis.xrange(k, "-", "+");
    else out[k] = await redis.get(k);
  }
  return out;
}

/** A pool with 2 warm tasks and one claimed task whose lease is already past due; epoch 7. */
async function pool(): Promise<{ keys: ClaimKeys; name: string; warm: string[]; claimed: string }> {
  const name = uniquePool("fence");
  const keys = new ClaimKeys(name);
  const warm = await registerWarm(redis, name, 3);
  const claimed = warm.pop() as string;
  await redis.hset(keys.task(claimed), "state", "claimed", "claimId", "c1");
  await redis.zrem(keys.warm, claimed);
  await redis.hset(keys.claim("c1"), "state", "ready", "taskId", claimed);
  await redis.zadd(keys.claims, 1, "c1"); // lease expired long ago
  await redis.set(keys.epoch, "7");
  return { keys, name, warm, claimed };
}

describe("fenced reconciler writes (real Redis)", () => {
  it("a deposed epoch changes nothing: cordon, expire, forget, record-launch and mark-orphan all refuse", async () => {
    const p = await pool();
    const stale = new PoolStore(redis, p.name, { fence: () => 6 });
    const before = await dump(p.keys);
    const calls: [string, () => Promise<unknown>][] = [
      ["cordon", () => stale.cordon(p.warm[0] as string, "excess")],
      ["expire", () => stale.expireLeases()],
      ["forget", () => stale.forget(p.warm[1] as string)],
      ["mark-orphan", () => stale.markOrphan("torphan", "arn:aws:ecs:r:1:task/c/torphan")],
      [
        "record-launch",
        () =>
          stale.recordLaunches([{ taskId: "tnew", taskArn: "arn:aws:ecs:r:1:task/c/tnew", revision: "f:1" }]),
      ],
    ];
    for (const [what, call] of calls) {
      const err = await call().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err, what).toBeInstanceOf(FencedError);
      expect((err as Error).message, what).toMatch(/epoch is 7, this caller holds epoch 6/);
    }
    expect(await dump(p.keys)).toEqual(before);
  });

  it("a lost lease (epoch 0) and a wiped epoch key are fenced off too", async () => {
    const p = await pool();
    const before = await dump(p.keys);
    await expect(
      new PoolStore(redis, p.name, { fence: () => 0 }).cordon(p.warm[0] as string, "x"),
    ).rejects.toThrow(FencedError);
    await redis.del(p.keys.epoch);
    const wiped = await dump(p.keys);
    await expect(
      new PoolStore(redis, p.name, { fence: () => 7 }).forget(p.warm[0] as string),
    ).rejects.toThrow(/epoch is none/);
    expect(await dump(p.keys)).toEqual(wiped);
    expect(Object.keys(wiped).length).toBe(Object.keys(before).length - 1);
  });

  it("the current epoch writes as before; unfenced callers (a bridge leaving the pool) are not affected", async () => {
    const p = await pool();
    const store = new PoolStore(redis, p.name, { fence: () => 7 });
    expect(await store.cordon(p.warm[0] as string, "excess")).toBe(true);
    expect(await redis.hget(p.keys.task(p.warm[0] as string), "state")).toBe("draining");
    expect(await store.expireLeases()).toEqual([p.claimed]);
    await store.forget(p.claimed);
    expect(await redis.exists(p.keys.task(p.claimed))).toBe(0);
    await store.recordLaunches([{ taskId: "tnew", taskArn: "arn:aws:ecs:r:1:task/c/tnew", revision: "f:1" }]);
    expect(await redis.hget(p.keys.task("tnew"), "state")).toBe("starting");
    expect(await new TaskChannel(redis, p.name, p.warm[1] as string).cordonSelf("sigterm")).toBe(true);
    expect(await redis.hget(p.keys.task(p.warm[1] as string), "state")).toBe("draining");
  });
});
