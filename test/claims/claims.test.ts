import { Redis } from "ioredis";
import { afterAll, beforeAll, beforeEach, afterEach, describe, expect, it } from "vitest";
import { ClaimKeys, ClaimService, PoolStore, TaskChannel } from "../../pkg/claims/index.js";
import { runClaimScript } from "../../pkg/claims/claim-script.js";
import { startPrivateRedis, uniquePool, waitFor, type PrivateRedis } from "../harness/index.js";
import { registerWarm, startReadyResponder, type ReadyResponder } from "./stand-in.js";

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

interface Ctx {
  pool: string;
  keys: ClaimKeys;
  svc: ClaimService;
  store: PoolStore;
  responder: ReadyResponder;
}
let ctx: Ctx;

beforeEach(async () => {
  const pool = uniquePool("c");
  const svc = new ClaimService({ pool, redis, limits: { minLeaseSeconds: 1 }, readyTimeoutMs: 10_000 });
  await svc.start();
  const responder = await startReadyResponder(redis, new Redis(server.url), pool);
  ctx = { pool, keys: new ClaimKeys(pool), svc, store: new PoolStore(redis, pool), responder };
});
afterEach(async () => {
  await ctx.responder.stop();
  await ctx.svc.close();
  const keys = await redis.keys(`${ctx.keys.prefix}*`);
  if (keys.length) await redis.del(...keys);
});

async function states(): Promise<Record<string, string>> {
  const ids = await redis.smembers(ctx.keys.tasks);
  const out: Record<string, string> = {};
  for (const id of ids) out[id] = (await redis.hget(ctx.keys.task(id), "state")) ?? "none";
  return out;
}

describe("claim protocol (real redis-server, real Lua)", () => {
  it("200 concurrent claims for 50 warm tasks: exactly 50 served, no task twice (counted in Redis)", async () => {
    await registerWarm(redis, ctx.pool, 50);
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) => ctx.svc.claim({ userId: `u${i}`, waitMs: 0 })),
    );
    const ready = results.filter((r) => r.outcome === "ready");
    expect(ready).toHaveLength(50);
    expect(results.filter((r) => r.outcome === "timeout")).toHaveLength(150);
    // Ground truth from Redis, not from the answers.
    const s = await states();
    expect(Object.values(s).filter((x) => x === "claimed")).toHaveLength(50);
    expect(await redis.zcard(ctx.keys.warm)).toBe(0);
    const holders = await Promise.all(Object.keys(s).map((id) => redis.hget(ctx.keys.task(id), "claimId")));
    expect(new Set(holders).size).toBe(50);
    expect(await redis.zcard(ctx.keys.claims)).toBe(50);
    const taskIds = ready.map((r) => (r.outcome === "ready" ? r.claim.taskId : ""));
    expect(new Set(taskIds).size).toBe(50);
  });

  it("cordon racing claims: each task is either cordoned or claimed, never both", async () => {
    const ids = await registerWarm(redis, ctx.pool, 60);
    const cordons = ids.map((id) => ctx.store.cordon(id, "excess"));
    const claims = ids.map((_, i) => ctx.svc.claim({ userId: `r${i}`, waitMs: 0 }));
    const [c, r] = await Promise.all([Promise.all(cordons), Promise.all(claims)]);
    const s = await states();
    for (const [i, id] of ids.entries()) {
      const cordoned = c[i] === true;
      expect(cordoned !== (s[id] === "claimed"), `${id}: cordoned=${cordoned} state=${s[id]}`).toBe(true);
      expect(s[id]).toMatch(cordoned ? /^draining$/ : /^claimed$/);
    }
    const hits = r.filter((x) => x.outcome === "ready").length;
    expect(hits + c.filter(Boolean).length).toBe(60);
  });

  it("a claimed task never returns to warm: re-register, cordon and release all keep it out", async () => {
    const [id] = await registerWarm(redis, ctx.pool, 1);
    const r = await ctx.svc.claim({ userId: "alice", waitMs: 0 });
    expect(r.outcome).toBe("ready");
    const ch = new TaskChannel(redis, ctx.pool, id!);
    expect(await ch.register({ taskArn: "x", endpoint: "h:1", token: "t" })).toEqual({
      outcome: "already-registered",
      state: "claimed",
    });
    expect(await ctx.store.cordon(id!, "excess")).toBe(false);
    if (r.outcome !== "ready") throw new Error("unreachable");
    expect(await ctx.svc.release(r.claim.claimId)).toEqual({ outcome: "released", taskId: id });
    expect(await redis.hget(ctx.keys.task(id!), "state")).toBe("draining");
    expect(await ch.register({ taskArn: "x", endpoint: "h:1", token: "t" })).toEqual({ outcome: "draining" });
    expect(await redis.zscore(ctx.keys.warm, id!)).toBeNull();
    expect(await ctx.svc.release(r.claim.claimId)).toEqual({ outcome: "already-ended", state: "released" });
    const inbox = await redis.lrange(ctx.keys.inbox(id!), 0, -1);
    expect(inbox.map((m) => JSON.parse(m).type)).toContain("release");
  });

  it("empty pool: claims wait FIFO and are served in order by the tasks that register", async () => {
    const order = ["first", "second", "third"];
    const pending: Promise<Awaited<ReturnType<ClaimService["claim"]>>>[] = [];
    for (const [i, userId] of order.entries()) {
      pending.push(ctx.svc.claim({ userId, waitMs: 20_000 }));
      await waitFor("claim queued", async () => (await redis.llen(ctx.keys.waiting)) === i + 1);
    }
    const misses = await redis.xrange(ctx.keys.events, "-", "+");
    expect(misses.filter(([, f]) => f[1] === "miss")).toHaveLength(3);
    const registered: string[] = [];
    for (let i = 0; i < 3; i++) registered.push(...(await registerWarm(redis, ctx.pool, 1, `w${i}-`)));
    const results = await Promise.all(pending);
    for (const [i, r] of results.entries()) {
      expect(r.outcome).toBe("ready");
      if (r.outcome !== "ready") continue;
      expect(r.claim.taskId).toBe(registered[i]);
      expect(r.claim.warm).toBe(false);
      expect(await redis.hget(ctx.keys.task(registered[i]!), "userId")).toBe(order[i]);
    }
    expect(await redis.zcard(ctx.keys.warm)).toBe(0);
  });

  it("begin(): the claim script's answer first (task taken or claim queued), then the same result as claim()", async () => {
    // Nothing answers init_user yet: `assigned` must come before any ready report.
    await ctx.responder.stop();
    const [warm] = await registerWarm(redis, ctx.pool, 1);
    const h = await ctx.svc.begin({ userId: "ann", waitMs: 5_000 });
    expect(h.stage).toBe("assigned");
    expect(h.taskId).toBe(warm);
    expect(await redis.hmget(ctx.keys.task(warm!), "state", "claimId")).toEqual(["claimed", h.claimId]);
    expect(await redis.hget(ctx.keys.claim(h.claimId!), "state")).toBe("assigned");
    const queued = await ctx.svc.begin({ userId: "bea", waitMs: 5_000 });
    expect(queued.stage).toBe("queued");
    expect(await redis.lrange(ctx.keys.waiting, 0, -1)).toEqual([queued.claimId]);

    // The bridges report ready now (a new responder), and a task registers for the queued claim.
    ctx.responder = await startReadyResponder(redis, new Redis(server.url), ctx.pool);
    await new TaskChannel(redis, ctx.pool, warm!).reportReady(h.claimId!);
    const [fresh] = await registerWarm(redis, ctx.pool, 1, "fresh-");
    const [a, b] = await Promise.all([h.result, queued.result]);
    expect(a).toMatchObject({ outcome: "ready", claim: { claimId: h.claimId, taskId: warm, warm: true } });
    expect(b).toMatchObject({
      outcome: "ready",
      claim: { claimId: queued.claimId, taskId: fresh, warm: false },
    });

    const empty = await ctx.svc.begin({ userId: "cid", waitMs: 0 });
    expect(empty.stage).toBe("settled");
    expect((await empty.result).outcome).toBe("timeout");
  });

  it("waitMs runs out: a clean timeout, the claim leaves the queue, a later task stays warm", async () => {
    const r = await ctx.svc.claim({ userId: "late", waitMs: 300, idempotencyKey: "retry-me" });
    expect(r.outcome).toBe("timeout");
    if (r.outcome !== "timeout") return;
    expect(await redis.llen(ctx.keys.waiting)).toBe(0);
    expect(await redis.hget(ctx.keys.claim(r.claimId), "state")).toBe("timeout");
    const [id] = await registerWarm(redis, ctx.pool, 1);
    expect(await redis.hget(ctx.keys.task(id!), "state")).toBe("warm");
    // Retrying the 503 with the same Idempotency-Key is a new claim, served by that task.
    const retry = await ctx.svc.claim({ userId: "late", waitMs: 1_000, idempotencyKey: "retry-me" });
    expect(retry).toMatchObject({ outcome: "ready", replayed: false, claim: { taskId: id } });
    // And that one is remembered: a second retry replays it.
    const again = await ctx.svc.claim({ userId: "late", waitMs: 1_000, idempotencyKey: "retry-me" });
    expect(again).toMatchObject({ outcome: "ready", replayed: true, claim: { taskId: id } });
  });

  it("a queued claim past its deadline, ended by a registering task, frees its Idempotency-Key too", async () => {
    // Queued by a gateway that then died: nobody cancels it; the next registration ends it.
    const k = ctx.keys;
    const claimId = "11111111-2222-4333-8444-555555555555";
    const idem = k.idempotency("orphaned-wait");
    const reply = (await runClaimScript(redis, k, {
      claimId,
      userId: "gone",
      leaseMs: 60_000,
      waitMs: 50,
      idempotencyKey: "orphaned-wait",
      perUser: 0,
      perClient: 0,
      maxWaiting: 0,
    })) as unknown[];
    expect(reply[0]).toBe(0); // queued
    expect(await redis.get(idem)).toBe(`${claimId}:gone`);
    await new Promise((r) => setTimeout(r, 120));
    const [task] = await registerWarm(redis, ctx.pool, 1, "late-");
    expect(await redis.hget(k.claim(claimId), "state")).toBe("timeout");
    expect(await redis.hget(k.task(task!), "state")).toBe("warm");
    expect(await redis.exists(idem)).toBe(0);
  });

  it("Idempotency-Key: retries get the same claim and task; another user is refused", async () => {
    await registerWarm(redis, ctx.pool, 5);
    const rs = await Promise.all(
      Array.from({ length: 10 }, () => ctx.svc.claim({ userId: "bob", waitMs: 0, idempotencyKey: "k-1" })),
    );
    const ids = new Set(rs.map((r) => (r.outcome === "ready" ? r.claim.taskId : JSON.stringify(r))));
    expect([...ids].join("\n")).toBe([...ids][0]); // one task, every retry
    expect([...ids][0]).toMatch(/^t/);
    expect(Object.values(await states()).filter((s) => s === "claimed")).toHaveLength(1);
    expect(rs.filter((r) => r.outcome === "ready" && r.replayed)).toHaveLength(9);
    const other = await ctx.svc.claim({ userId: "mallory", waitMs: 0, idempotencyKey: "k-1" });
    expect(other.outcome).toBe("conflict");
    expect(await redis.zcard(ctx.keys.warm)).toBe(4);
  });

  it("heartbeat renews; a lease that runs out is expired and its task drains", async () => {
    const [id] = await registerWarm(redis, ctx.pool, 1);
    const r = await ctx.svc.claim({ userId: "carol", waitMs: 0, leaseSeconds: 1 });
    if (r.outcome !== "ready") throw new Error(`claim: ${r.outcome}`);
    const hb = await ctx.svc.heartbeat(r.claim.claimId, 2);
    expect(hb.outcome).toBe("renewed");
    if (hb.outcome === "renewed") expect(hb.leaseExpiresAtMs).toBeGreaterThan(r.claim.leaseExpiresAtMs);
    const obs = await ctx.store.observe();
    expect(obs.records.find((x) => x.taskId === id)?.leaseExpiresAtMs).toBeGreaterThan(0);
    expect(await ctx.store.expireLeases()).toEqual([]);
    await waitFor("lease expiry", async () => (await ctx.store.expireLeases()).includes(id!), 10_000, 200);
    expect(await redis.hget(ctx.keys.task(id!), "state")).toBe("draining");
    expect(await redis.hget(ctx.keys.task(id!), "drainReason")).toBe("lease-expired");
    expect(await ctx.svc.heartbeat(r.claim.claimId)).toEqual({ outcome: "ended", state: "expired" });
    const events = await redis.xrange(ctx.keys.events, "-", "+");
    expect(events.some(([, f]) => f[1] === "expire")).toBe(true);
  });

  it("a claim naming no lease gets the desired state's leaseSeconds; an explicit lease wins", async () => {
    await redis.set(ctx.keys.config, JSON.stringify({ leaseSeconds: 42 }));
    const svc = new ClaimService({ pool: ctx.pool, redis });
    await svc.start();
    try {
      await registerWarm(redis, ctx.pool, 2);
      const r = await svc.claim({ userId: "lease", waitMs: 0 });
      if (r.outcome !== "ready") throw new Error(r.outcome);
      const assignedAt = Number(await redis.hget(ctx.keys.claim(r.claim.claimId), "assignedAt"));
      expect(r.claim.leaseExpiresAtMs - assignedAt).toBe(42_000);
      const explicit = await svc.claim({ userId: "lease2", waitMs: 0, leaseSeconds: 10 });
      if (explicit.outcome !== "ready") throw new Error(explicit.outcome);
      const at2 = Number(await redis.hget(ctx.keys.claim(explicit.claim.claimId), "assignedAt"));
      expect(explicit.claim.leaseExpiresAtMs - at2).toBe(10_000);
    } finally {
      await svc.close();
    }
  });

  it("unknown claims are typed results, not exceptions", async () => {
    const id = "00000000-0000-4000-8000-000000000000";
    expect(await ctx.svc.heartbeat(id)).toEqual({ outcome: "unknown" });
    expect(await ctx.svc.release(id)).toEqual({ outcome: "unknown" });
    await expect(ctx.svc.heartbeat("../etc")).rejects.toThrow(/claimId/);
  });
});

describe("PoolStore (the reconciler's operations)", () => {
  it("an orphan is marked draining before its stop: a late registration is refused, a waiting claim never gets it", async () => {
    const queued = ctx.svc.claim({ userId: "w", waitMs: 2_000 });
    await waitFor("queued", async () => (await redis.llen(ctx.keys.waiting)) === 1);
    expect(await ctx.store.markOrphan("o1", "arn:o1")).toBe(true);
    expect(await redis.hgetall(ctx.keys.task("o1"))).toMatchObject({
      state: "draining",
      drainReason: "orphan",
      taskArn: "arn:o1",
    });
    expect(await redis.sismember(ctx.keys.tasks, "o1")).toBe(1);
    const late = await new TaskChannel(redis, ctx.pool, "o1").register({
      taskArn: "arn:o1",
      endpoint: "h:1",
      token: "x",
    });
    expect(late).toEqual({ outcome: "draining" });
    expect(await redis.llen(ctx.keys.waiting)).toBe(1); // the waiter is still waiting for a real task
    expect(await ctx.store.markOrphan("o1", "arn:o1")).toBe(true); // idempotent

    // The other order: the bridge registered first, so the task has a record: no orphan stop.
    const [reg] = await registerWarm(redis, ctx.pool, 1, "r-");
    await waitFor(
      "the registered task served the waiter",
      async () => (await redis.llen(ctx.keys.waiting)) === 0,
    );
    expect(await ctx.store.markOrphan(reg!, "arn:r")).toBe(false);
    expect(await redis.hget(ctx.keys.task(reg!), "state")).toBe("claimed");
    expect((await queued).outcome).toBe("ready");
  });

  it("recordLaunches never overwrites; observe reads records and waiting; forget removes", async () => {
    const [warmId] = await registerWarm(redis, ctx.pool, 1);
    await ctx.store.recordLaunches([
      { taskId: "s1", taskArn: "arn:s1", revision: "rev:1" },
      { taskId: warmId!, taskArn: "arn:other", revision: "rev:2" },
    ]);
    expect(await redis.hget(ctx.keys.task(warmId!), "state")).toBe("warm");
    expect(await redis.hget(ctx.keys.task(warmId!), "revision")).toMatch(/task-definition\/f:1$/);
    expect((await ctx.svc.claim({ userId: "q", waitMs: 0 })).outcome).toBe("ready");
    const queued = ctx.svc.claim({ userId: "q2", waitMs: 5_000 });
    await waitFor("queued", async () => (await redis.llen(ctx.keys.waiting)) === 1);
    const obs = await ctx.store.observe();
    expect(obs.waiting).toBe(1);
    const byId = Object.fromEntries(obs.records.map((r) => [r.taskId, r]));
    expect(byId.s1).toMatchObject({ state: "starting", taskArn: "arn:s1", revision: "rev:1" });
    expect(byId.s1!.createdAtMs).toBeGreaterThan(1_600_000_000_000);
    expect(byId[warmId!]).toMatchObject({ state: "claimed" });
    expect(byId[warmId!]!.leaseExpiresAtMs).toBeGreaterThan(Date.now() - 5_000);
    // A starting task cordoned before registering: the bridge is told to exit.
    expect(await ctx.store.cordon("s1", "never-registered")).toBe(true);
    const ch = new TaskChannel(redis, ctx.pool, "s1");
    expect(await ch.register({ taskArn: "arn:s1", endpoint: "h:1", token: "x" })).toEqual({
      outcome: "draining",
    });
    await ctx.store.forget("s1");
    await ctx.store.forget(warmId!);
    expect(await redis.exists(ctx.keys.task("s1"), ctx.keys.task(warmId!))).toBe(0);
    expect(await redis.sismember(ctx.keys.tasks, "s1")).toBe(0);
    expect(await ctx.store.cordon("s1", "x")).toBe(false);
    await ctx.store.emit("config", { by: "test" });
    const last = await redis.xrevrange(ctx.keys.events, "+", "-", "COUNT", 1);
    expect(last[0]?.[1]).toEqual(["type", "config", "by", "test"]);
    // Releasing a queued claim takes it out of the queue and its waiter learns at once.
    const queuedId = await redis.lindex(ctx.keys.waiting, 0);
    expect(await ctx.svc.release(queuedId!)).toEqual({ outcome: "released" });
    expect(await queued).toMatchObject({ outcome: "ended", state: "released" });
    expect((await ctx.store.observe()).waiting).toBe(0);
  });
});
