import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startPrivateCluster, type PrivateCluster } from "../../hack/redis/private-cluster.js";
import { ClaimKeys, ClaimService, FencedError, PoolStore, TaskChannel } from "../../pkg/claims/index.js";
import { LeaderLease } from "../../pkg/leader/index.js";
import { createRedis, isTransientRedisError } from "../../pkg/redis/index.js";
import { uniquePool } from "../harness/index.js";
import { registerWarm } from "../claims/stand-in.js";

/**
 * The claim protocol on a real Redis Cluster (3 masters, each with a replica), through the
 * factory's `redis+cluster://` URL as every process gets it: every script declares its keys, so
 * it runs whatever node serves the pool's slot, and while that slot moves or its master fails over.
 * Ground truth is read from the node serving the slot. WARMPOOL_CLUSTER_CHAOS=full runs the
 * longer chaos variants.
 */
const FULL = process.env.WARMPOOL_CLUSTER_CHAOS === "full";

let cluster: PrivateCluster;
let redis: Redis;
beforeAll(async () => {
  cluster = await startPrivateCluster(3, { replicas: 1 });
  redis = createRedis(cluster.url, { offlineQueue: true });
}, 90_000);
afterAll(async () => {
  redis?.disconnect();
  await cluster?.stop();
});

function service(pool: string, quotas = {}): ClaimService {
  return new ClaimService({
    pool,
    redis,
    subscriber: createRedis(cluster.url, { use: "subscriber" }),
    limits: { minLeaseSeconds: 1 },
    readyTimeoutMs: 10_000,
    quotas,
  });
}

/** Answers init_user as a bridge would: the claimed task reports ready. */
async function ready(pool: string, taskId: string, claimId: string): Promise<void> {
  const r = await new TaskChannel(redis, pool, taskId).reportReady(claimId);
  expect(r.outcome).toBe("ready");
}

describe("claims on a Redis Cluster (redis+cluster:// URL)", () => {
  it("claim, ready, heartbeat, release; a waiter served by a registering task; quotas at the limit", async () => {
    const pool = uniquePool("cc");
    const k = new ClaimKeys(pool);
    const svc = service(pool, { perUser: 1 });
    await svc.start();
    try {
      const [t1] = await registerWarm(redis, pool, 1);
      const h = await svc.begin({ userId: "alice", waitMs: 0 });
      expect(h).toMatchObject({ stage: "assigned", taskId: t1 });
      await ready(pool, t1!, h.claimId!);
      const r = await h.result;
      expect(r).toMatchObject({ outcome: "ready", claim: { taskId: t1 } });
      expect(await svc.heartbeat(h.claimId!, 30)).toMatchObject({ outcome: "renewed" });
      // At the per-user limit the script checks each entry's claim record (declared on request).
      expect(await svc.claim({ userId: "alice", waitMs: 0 })).toMatchObject({
        outcome: "rejected",
        quota: "user",
      });
      expect(await svc.release(h.claimId!)).toEqual({ outcome: "released", taskId: t1 });
      expect(await redis.hget(k.task(t1!), "state")).toBe("draining");
      expect(await redis.lrange(k.inbox(t1!), 0, -1)).toHaveLength(2); // init_user, release
      // Queued, then served by the next task to register (its claim key declared by request).
      const w = await svc.begin({ userId: "bob", waitMs: 10_000, idempotencyKey: "bob-1" });
      expect(w.stage).toBe("queued");
      const reg = await new TaskChannel(redis, pool, "t-late").register({
        taskArn: "a",
        endpoint: "h:1",
        token: "x",
      });
      expect(reg).toEqual({ outcome: "claimed", claimId: w.claimId, userId: "bob" });
      await ready(pool, "t-late", w.claimId!);
      expect(await w.result).toMatchObject({ outcome: "ready", claim: { taskId: "t-late" } });
      expect(await redis.get(k.idempotency("bob-1"))).toBe(`${w.claimId}:bob`);
    } finally {
      await svc.close();
    }
  });

  it("reconciler writes: snapshot, lease expiry, forget, and fencing by the lease epoch", async () => {
    const pool = uniquePool("cr");
    const k = new ClaimKeys(pool);
    const svc = service(pool);
    await svc.start();
    try {
      const lease = new LeaderLease({ redis, keys: k, ttlMs: 5_000, holderId: "r1" });
      await lease.tryAcquire();
      expect(lease.held).toBe(true);
      const store = new PoolStore(redis, pool, { fence: () => lease.epoch });
      const ids = await registerWarm(redis, pool, 3);
      const h = await svc.begin({ userId: "carol", waitMs: 0, leaseSeconds: 1 });
      await ready(pool, h.taskId!, h.claimId!);
      await h.result;
      const snap = await store.observe();
      expect(snap.records.map((r) => r.taskId).sort()).toEqual([...ids].sort());
      expect(snap.records.find((r) => r.taskId === h.taskId)?.state).toBe("claimed");
      await new Promise((r) => setTimeout(r, 1_100));
      expect(await store.expireLeases()).toEqual([h.taskId]);
      expect(await redis.hget(k.claim(h.claimId!), "state")).toBe("expired");
      await store.forget(h.taskId!);
      expect(await redis.exists(k.task(h.taskId!))).toBe(0);
      // A newer term: the old epoch changes nothing.
      await redis.incr(k.epoch);
      const other = ids.find((id) => id !== h.taskId)!;
      await expect(store.cordon(other, "excess")).rejects.toBeInstanceOf(FencedError);
      await expect(store.forget(other)).rejects.toBeInstanceOf(FencedError);
      expect(await redis.hget(k.task(other), "state")).toBe("warm");
      await lease.stop();
    } finally {
      await svc.close();
    }
  });
});

describe("a bridge's BLPOP on a Redis Cluster", () => {
  it("its wait on the inbox survives the slot moving to another master and a failover", async () => {
    const pool = uniquePool("cb");
    const k = new ClaimKeys(pool);
    const blocking = createRedis(cluster.url, { use: "blocking" });
    blocking.on("error", () => undefined);
    const ch = new TaskChannel(redis, pool, "t1");
    try {
      const slot = await cluster.slotOf(k.inbox("t1"));
      const home = await cluster.ownerOf(slot);
      let to = home;
      for (const n of cluster.nodes) if (n.port !== home && (await isMaster(n.port))) to = n.port;
      const retries: string[] = [];
      const opts = { onRetry: (e: Error) => void retries.push(e.message) };

      const first = ch.next(blocking, opts);
      await new Promise((r) => setTimeout(r, 300)); // blocked on the home master
      await cluster.migrateSlot(slot, to);
      await redis.rpush(k.inbox("t1"), JSON.stringify({ type: "drain", reason: "after-move" }));
      expect(await first).toEqual({ type: "drain", reason: "after-move" });

      const second = ch.next(blocking, opts);
      await new Promise((r) => setTimeout(r, 300)); // blocked on the new master
      const flip = await cluster.failover(slot);
      expect(flip.from).toBe(to);
      await redis.rpush(k.inbox("t1"), JSON.stringify({ type: "drain", reason: "after-failover" }));
      expect(await second).toEqual({ type: "drain", reason: "after-failover" });
      // Whatever the servers said meanwhile (MOVED, UNBLOCKED) was transient: retried, never thrown.
      console.log(
        `[chaos] cluster BLPOP across a slot move and a failover: ${retries.length} retries (${[...new Set(retries)].join("; ")})`,
      );
    } finally {
      blocking.disconnect();
    }
  }, 60_000);
});

interface Tally {
  served: Map<string, string>; // claimId → taskId, as answered to the caller
  unavailable: number; // transient failures: the gateway answers 503
  errors: Error[]; // anything else: a 500
}

/**
 * `workers` callers claim, report ready (as the bridge would), and release, until `stop`; every
 * Redis failure is sorted as the gateway would answer it.
 */
function claimLoop(pool: string, svc: ClaimService, workers: number, stop: () => boolean): Promise<Tally> {
  const t: Tally = { served: new Map(), unavailable: 0, errors: [] };
  const sort = (e: unknown): void => {
    if (isTransientRedisError(e)) t.unavailable++;
    else t.errors.push(e as Error);
  };
  const one = async (w: number): Promise<void> => {
    for (let i = 0; !stop(); i++) {
      try {
        const h = await svc.begin({ userId: `w${w}`, waitMs: 0 });
        if (h.stage !== "assigned") {
          await h.result;
          await new Promise((r) => setTimeout(r, 5));
          continue;
        }
        await new TaskChannel(redis, pool, h.taskId!).reportReady(h.claimId!);
        const r = await h.result;
        if (r.outcome === "ready") {
          t.served.set(r.claim.claimId, r.claim.taskId);
          await svc.release(r.claim.claimId);
        }
      } catch (e) {
        sort(e);
        await new Promise((r) => setTimeout(r, 20));
      }
    }
  };
  return Promise.all(Array.from({ length: workers }, (_, w) => one(w))).then(() => t);
}

/**
 * Ground truth from the node serving the pool's slot: every claim record names a distinct task,
 * that task's record names it back, and every claim answered as ready is there with its task.
 */
async function checkGroundTruth(pool: string, t: Tally): Promise<{ claims: number }> {
  const k = new ClaimKeys(pool);
  const slot = await cluster.slotOf(k.claims);
  const port = await cluster.ownerOf(slot);
  const node = createRedis(`redis://127.0.0.1:${port}`, { use: "one-shot", offlineQueue: true });
  try {
    const keys = (await node.call("CLUSTER", "GETKEYSINSLOT", slot, 1_000_000)) as string[];
    const claimKeys = keys.filter(
      (x) => x.startsWith(k.claim("")) && !x.slice(k.claim("").length).includes(":"),
    );
    const byTask = new Map<string, string>();
    for (const ck of claimKeys) {
      const c = await node.hgetall(ck);
      if (!c.taskId) continue;
      const claimId = ck.slice(k.claim("").length);
      expect(byTask.get(c.taskId), `task ${c.taskId} handed to two claims`).toBeUndefined();
      byTask.set(c.taskId, claimId);
      expect(await node.hget(k.task(c.taskId), "claimId")).toBe(claimId);
    }
    // No task lost from the pool either: a record still warm is in `warm` (a script that read an
    // undeclared, already moved task key would drop it from `warm` as a stale entry).
    const warm = new Set((await node.zrange(k.warm, 0, -1)) as string[]);
    const taskKeys = keys.filter((x) => x.startsWith(k.task("")) && !x.endsWith(":inbox"));
    let strandedWarm = 0;
    for (const tk of taskKeys) {
      const id = tk.slice(k.task("").length);
      if ((await node.hget(tk, "state")) === "warm" && !warm.has(id)) strandedWarm++;
    }
    expect(strandedWarm, "warm task records missing from the warm set").toBe(0);
    for (const [claimId, taskId] of t.served) {
      expect(byTask.get(taskId), `served claim ${claimId} lost`).toBe(claimId);
      expect(["released", "ready"]).toContain(await node.hget(k.claim(claimId), "state"));
    }
    return { claims: byTask.size };
  } finally {
    node.disconnect();
  }
}

describe("chaos on a Redis Cluster: the pool's slot moves during claims", () => {
  it("slot migration (IMPORTING/MIGRATING + MIGRATE) and back: no task twice, no claim lost, no 500", async () => {
    const pool = uniquePool("cm");
    const k = new ClaimKeys(pool);
    const svc = service(pool);
    await svc.start();
    try {
      await registerWarm(redis, pool, FULL ? 1_500 : 300);
      const slot = await cluster.slotOf(k.warm);
      const home = await cluster.ownerOf(slot);
      const masters = [];
      for (const n of cluster.nodes) if (n.port !== home && (await isMaster(n.port))) masters.push(n.port);
      let stopped = false;
      const loop = claimLoop(pool, svc, FULL ? 16 : 6, () => stopped);
      const moves = [];
      for (let round = 0; round < (FULL ? 6 : 2); round++) {
        await new Promise((r) => setTimeout(r, 200));
        const to = round % 2 === 0 ? masters[0]! : home;
        moves.push({ to, keys: await cluster.migrateSlot(slot, to, { batch: 5, pauseMs: 10 }) });
      }
      await new Promise((r) => setTimeout(r, 200));
      stopped = true;
      const t = await loop;
      const truth = await checkGroundTruth(pool, t);
      console.log(
        `[chaos] cluster slot ${slot} moved ${moves.map((m) => `→${m.to} (${m.keys} keys)`).join(" ")}: ${t.served.size} claims served, ${truth.claims} claim records with a task, ${t.unavailable} answered 503, ${t.errors.length} errors`,
      );
      expect(t.errors.map((e) => e.message)).toEqual([]);
      expect(t.served.size).toBeGreaterThan(10);
      expect(moves.every((m) => m.keys > 0)).toBe(true);
    } finally {
      await svc.close();
    }
  }, 120_000);

  it("master failover (CLUSTER FAILOVER on its replica) during claims: no task twice, no claim lost, no 500", async () => {
    const pool = uniquePool("cf");
    const k = new ClaimKeys(pool);
    const svc = service(pool);
    await svc.start();
    try {
      await registerWarm(redis, pool, FULL ? 1_500 : 300);
      const slot = await cluster.slotOf(k.warm);
      let stopped = false;
      const loop = claimLoop(pool, svc, FULL ? 16 : 6, () => stopped);
      const flips = [];
      for (let round = 0; round < (FULL ? 4 : 1); round++) {
        await new Promise((r) => setTimeout(r, 300));
        flips.push(await cluster.failover(slot));
      }
      await new Promise((r) => setTimeout(r, 300));
      stopped = true;
      const t = await loop;
      const truth = await checkGroundTruth(pool, t);
      console.log(
        `[chaos] cluster slot ${slot} failed over ${flips.map((f) => `${f.from}→${f.to}`).join(" ")}: ${t.served.size} claims served, ${truth.claims} claim records with a task, ${t.unavailable} answered 503, ${t.errors.length} errors`,
      );
      expect(t.errors.map((e) => e.message)).toEqual([]);
      expect(t.served.size).toBeGreaterThan(10);
      expect(await cluster.ownerOf(slot)).toBe(flips.at(-1)!.to);
    } finally {
      await svc.close();
    }
  }, 120_000);
});

async function isMaster(port: number): Promise<boolean> {
  const c = createRedis(`redis://127.0.0.1:${port}`, { use: "one-shot", offlineQueue: true });
  try {
    return ((await c.call("ROLE")) as [string])[0] === "master";
  } finally {
    c.disconnect();
  }
}
