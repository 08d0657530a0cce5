import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ClaimService, PoolStore, TaskChannel } from "../../pkg/claims/index.js";
import { PoolKeys } from "../../pkg/keys/index.js";
import { RecordCache } from "../../pkg/observe/index.js";
import type { TaskRecord } from "../../pkg/plan/index.js";
import { startPrivateRedis, uniquePool, type PrivateRedis } from "../harness/index.js";
import { registerWarm, startReadyResponder } from "../claims/stand-in.js";

/**
 * The record cache (docs/reconciler.md, "The record cache"): a pass reads only the records that
 * changed. Against a real Redis and the real scripts (register, claim, release, cordon, forget,
 * record-launch): after every change the cache equals a full snapshot (PoolStore.observe, leases
 * aside), and the Redis server's own command counts show how many records each read fetched.
 * Shown to fail: with the stream's task ids left out of the read (only touched ids read), the
 * register/claim/release steps no longer match the snapshot.
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

const arn = (id: string): string => `arn:aws:ecs:us-east-1:000000000000:task/c/${id}`;
const withoutLease = (rs: TaskRecord[]): TaskRecord[] =>
  rs.map(({ leaseExpiresAtMs: _, ...r }) => r).sort((a, b) => (a.taskId < b.taskId ? -1 : 1));

async function hgetallCalls(): Promise<number> {
  const info = await redis.info("commandstats");
  return Number(/^cmdstat_hgetall:calls=(\d+)/m.exec(info)?.[1] ?? 0);
}

function world(fullEveryMs = 3_600_000) {
  const pool = uniquePool("rc");
  const keys = new PoolKeys(pool);
  const store = new PoolStore(redis, pool);
  const cache = new RecordCache({ redis, keys, fullEveryMs });
  /** One cache read; how many records Redis gave it (HGETALL calls, ground truth). */
  const read = async () => {
    const before = await hgetallCalls();
    const r = await cache.read();
    const fetched = (await hgetallCalls()) - before;
    const truth = await store.observe();
    expect(withoutLease(r.records)).toEqual(withoutLease(truth.records));
    expect(r.waiting).toBe(truth.waiting);
    return { ...r, fetched };
  };
  return { pool, keys, store, cache, read };
}

describe("RecordCache (real Redis, the pool's own scripts)", () => {
  it("reads every record once, then only what the events stream and its own writes name", async () => {
    const w = world();
    await registerWarm(redis, w.pool, 40);
    await w.store.recordLaunches([{ taskId: "s1", taskArn: arn("s1"), revision: "f:1" }]);
    const first = await w.read();
    expect(first).toMatchObject({ kind: "full", fetched: 41 });
    expect(await w.read()).toMatchObject({ kind: "delta", fetched: 0 });

    // A bridge registers (a `register` entry).
    await new TaskChannel(redis, w.pool, "s1").register({
      taskArn: arn("s1"),
      revision: "f:1",
      endpoint: "127.0.0.1:9",
      token: "t",
    });
    expect(await w.read()).toMatchObject({ kind: "delta", fetched: 1 });

    // A claim and its release (claim, release entries), through the real claim service.
    const svc = new ClaimService({ pool: w.pool, redis, limits: { minLeaseSeconds: 1 } });
    await svc.start();
    const responder = await startReadyResponder(redis, redis.duplicate(), w.pool);
    try {
      const c = await svc.claim({ userId: "u1", waitMs: 5_000, leaseSeconds: 60 });
      expect(c.outcome).toBe("ready");
      const afterClaim = await w.read();
      expect(afterClaim.kind).toBe("delta");
      expect(afterClaim.fetched).toBeLessThanOrEqual(2);
      expect(afterClaim.records.filter((r) => r.state === "claimed")).toHaveLength(1);
      if (c.outcome !== "ready") return;
      await svc.release(c.claim.claimId);
      const afterRelease = await w.read();
      expect(afterRelease.records.filter((r) => r.state === "draining")).toHaveLength(1);
      expect(afterRelease.fetched).toBeLessThanOrEqual(2);
    } finally {
      await responder.stop();
      await svc.close();
    }

    // The reconciler's own writes: a cordon (its entry) and, touched, a forget and a launch record.
    const warm = (await w.read()).records.filter((r) => r.state === "warm").map((r) => r.taskId);
    expect(await w.store.cordon(warm[0]!, "excess")).toBe(true);
    expect(await w.read()).toMatchObject({ kind: "delta", fetched: 1 });
    await w.store.forget(warm[1]!);
    await w.store.recordLaunches([{ taskId: "s2", taskArn: arn("s2"), revision: "f:1" }]);
    w.cache.touch([warm[1]!, "s2"]);
    const own = await w.read();
    expect(own).toMatchObject({ kind: "delta", fetched: 2 }); // s2, and warm[1] found gone
    expect(own.records.some((r) => r.taskId === warm[1])).toBe(false);
    expect(w.cache.stats).toMatchObject({ full: 1, resets: 0 });
  });

  it("reads in full again when the stream lost its position, the state was invalidated, or the interval passed", async () => {
    const w = world();
    await registerWarm(redis, w.pool, 5);
    expect(await w.read()).toMatchObject({ kind: "full", fetched: 5 });
    // A record edited by hand: no entry names it; the delta cannot see it.
    const hand = "hand1";
    await redis.hset(w.keys.task(hand), { state: "warm", taskArn: arn(hand), createdAt: String(Date.now()) });
    await redis.sadd(w.keys.tasks, hand);
    expect(await w.cache.read()).toMatchObject({ kind: "delta", read: 0 });
    w.cache.invalidate();
    expect(await w.read()).toMatchObject({ kind: "full", fetched: 6 });

    // The stream trimmed past the cache's position (or lost with the data): a reset, then a full read.
    await registerWarm(redis, w.pool, 2);
    await redis.xtrim(w.keys.events, "MAXLEN", 0);
    await registerWarm(redis, w.pool, 1);
    expect(await w.read()).toMatchObject({ kind: "full", fetched: 9 });
    expect(w.cache.stats.resets).toBe(1);

    // The full re-read interval.
    const every = world(0);
    await registerWarm(redis, every.pool, 3);
    expect(await every.read()).toMatchObject({ kind: "full" });
    expect(await every.read()).toMatchObject({ kind: "full" });
  });

  it("a claimed record carries its lease only once it has passed; the next lease to come is returned", async () => {
    const w = world();
    const [a, b] = await registerWarm(redis, w.pool, 2);
    const now = Number((await redis.time())[0]) * 1000;
    for (const [id, claimId, lease] of [
      [a!, "c-a", now + 60_000],
      [b!, "c-b", now + 120_000],
    ] as const) {
      await redis.hset(w.keys.task(id), { state: "claimed", claimId, userId: `u-${claimId}` });
      await redis.zadd(w.keys.claims, lease, claimId);
    }
    w.cache.invalidate();
    let r = await w.read();
    expect(r.records.every((x) => x.leaseExpiresAtMs === undefined)).toBe(true);
    expect(r.nextLeaseDueMs).toBe(now + 60_000);
    // a's lease passes (no entry: heartbeats and time move leases silently).
    await redis.zadd(w.keys.claims, now - 1_000, "c-a");
    r = await w.read();
    expect(r.kind).toBe("delta");
    expect(r.records.find((x) => x.taskId === a)?.leaseExpiresAtMs).toBe(now - 1_000);
    expect(r.nextLeaseDueMs).toBe(now + 120_000);
    // Heartbeated again: no longer past, so no stale expiry stays behind.
    await redis.zadd(w.keys.claims, now + 180_000, "c-a");
    r = await w.read();
    expect(r.records.find((x) => x.taskId === a)?.leaseExpiresAtMs).toBeUndefined();
  });
});
