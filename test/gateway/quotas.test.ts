/**
 * Quotas and caps at the gateway, enforced in the claim script (counted in Redis, so two gateways
 * share them): live claims per user and per bearer token (429 naming the quota), the waiting
 * queue's bound (503 + Retry-After), and the lease cap (400 naming leaseSeconds; the desired
 * state's lease is capped too). Every count is read back from Redis.
 */
import { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { ClaimKeys, TaskChannel } from "../../pkg/claims/index.js";
import { runGateway, type GatewayConfig } from "../../pkg/gateway/index.js";
import { startPrivateRedis, uniquePool, waitFor, type PrivateRedis } from "../harness/index.js";
import { registerWarm, startReadyResponder, type ReadyResponder } from "../claims/stand-in.js";

const TOKEN_A = "quota-token-a-0123456789abcdef";
const TOKEN_B = "quota-token-b-0123456789abcdef";
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

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

async function world(
  limits: Partial<GatewayConfig>,
  gateways = 1,
): Promise<{ pool: string; keys: ClaimKeys; urls: string[]; responder: ReadyResponder }> {
  const pool = uniquePool("qt");
  const urls: string[] = [];
  for (let i = 0; i < gateways; i++) {
    const gw = await runGateway({
      pool,
      redisUrl: server.url,
      host: "127.0.0.1",
      port: 0,
      tokens: `${TOKEN_A},${TOKEN_B}`,
      defaultLeaseSeconds: 60,
      defaultWaitMs: 0,
      maxWaitMs: 60_000,
      readyTimeoutMs: 10_000,
      retryAfterSeconds: 4,
      ...limits,
    });
    cleanup.push(() => gw.close());
    urls.push(gw.url);
  }
  const responder = await startReadyResponder(redis, new Redis(server.url), pool);
  cleanup.push(() => responder.stop());
  return { pool, keys: new ClaimKeys(pool), urls, responder };
}

async function post(
  url: string,
  path: string,
  body: object,
  token = TOKEN_A,
): Promise<{ status: number; json: Record<string, unknown>; retryAfter: string | null }> {
  const r = await fetch(`${url}${path}`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return {
    status: r.status,
    json: (await r.json()) as Record<string, unknown>,
    retryAfter: r.headers.get("retry-after"),
  };
}

/** Live claims of a user, counted from the claim records in Redis. */
async function liveClaimsOf(keys: ClaimKeys, userId: string): Promise<number> {
  let n = 0;
  for (const k of await redis.keys(`${keys.claimPrefix}*`)) {
    const [u, s] = await redis.hmget(k, "userId", "state");
    if (u === userId && (s === "waiting" || s === "assigned" || s === "ready")) n++;
  }
  return n;
}

describe("per-user and per-token quotas, bounded waiting, lease cap", () => {
  it("per-user: the third live claim is 429 naming the quota and takes nothing; a release frees a slot", async () => {
    const w = await world({ maxClaimsPerUser: 2 });
    await registerWarm(redis, w.pool, 5);
    const a1 = await post(w.urls[0]!, "/v1/claims", { userId: "alice" });
    const a2 = await post(w.urls[0]!, "/v1/claims", { userId: "alice" });
    expect([a1.status, a2.status]).toEqual([201, 201]);
    const a3 = await post(w.urls[0]!, "/v1/claims", { userId: "alice" });
    expect(a3.status).toBe(429);
    expect(a3.json).toMatchObject({ quota: "user", limit: 2 });
    expect(a3.json.detail).toMatch(
      /quota exceeded: user alice already holds 2 live claims \(the per-user quota\)/,
    );
    expect(a3.retryAfter).toBe("4");
    expect(await redis.zcard(w.keys.warm)).toBe(3); // nothing was taken for the refused claim
    expect(await liveClaimsOf(w.keys, "alice")).toBe(2);
    expect((await post(w.urls[0]!, "/v1/claims", { userId: "bob" })).status).toBe(201);

    const del = await fetch(`${w.urls[0]!}/v1/claims/${String(a1.json.claimId)}`, {
      method: "DELETE",
      headers: { authorization: `Bearer ${TOKEN_A}` },
    });
    expect(del.status).toBe(200);
    expect((await post(w.urls[0]!, "/v1/claims", { userId: "alice" })).status).toBe(201);
  });

  it("per-user, shared by two gateways and atomic: 20 concurrent claims, exactly 3 served", async () => {
    const w = await world({ maxClaimsPerUser: 3 }, 2);
    await registerWarm(redis, w.pool, 20);
    const rs = await Promise.all(
      Array.from({ length: 20 }, (_, i) => post(w.urls[i % 2]!, "/v1/claims", { userId: "carol" })),
    );
    const codes = rs.map((r) => r.status).sort();
    expect(codes.filter((c) => c === 201)).toHaveLength(3);
    expect(codes.filter((c) => c === 429)).toHaveLength(17);
    expect(await liveClaimsOf(w.keys, "carol")).toBe(3);
    expect(await redis.zcard(w.keys.warm)).toBe(17);
  });

  it("claims ended outside the gateway (the bridge's session end) no longer count", async () => {
    const w = await world({ maxClaimsPerUser: 1 });
    await registerWarm(redis, w.pool, 3);
    const first = await post(w.urls[0]!, "/v1/claims", { userId: "dora" });
    expect(first.status).toBe(201);
    expect((await post(w.urls[0]!, "/v1/claims", { userId: "dora" })).status).toBe(429);
    // The agent exits: the bridge ends the claim (release-4+ without the quota keys).
    await new TaskChannel(redis, w.pool, String(first.json.taskId)).endSession(
      String(first.json.claimId),
      "agent-exited",
    );
    expect((await post(w.urls[0]!, "/v1/claims", { userId: "dora" })).status).toBe(201);
  });

  it("a heartbeat moves the claim's quota entry with its lease (a renewed claim keeps counting)", async () => {
    const w = await world({ maxClaimsPerUser: 1 });
    await registerWarm(redis, w.pool, 2);
    const c = await post(w.urls[0]!, "/v1/claims", { userId: "hank", leaseSeconds: 5 });
    expect(c.status).toBe(201);
    const id = String(c.json.claimId);
    const q = w.keys.userQuota("hank");
    expect(await redis.zscore(q, id)).toBe(String(await redis.zscore(w.keys.claims, id)));
    const hb = await post(w.urls[0]!, `/v1/claims/${id}/heartbeat`, { leaseSeconds: 600 });
    expect(hb.status).toBe(200);
    const lease = Number(await redis.zscore(w.keys.claims, id));
    expect(Number(await redis.zscore(q, id))).toBe(lease);
    expect(await redis.pttl(q)).toBeGreaterThan(590_000);
    expect((await post(w.urls[0]!, "/v1/claims", { userId: "hank" })).status).toBe(429);
  });

  it("per-token: one bearer token is capped, another is not affected", async () => {
    const w = await world({ maxClaimsPerToken: 2, maxClaimsPerUser: 0 });
    await registerWarm(redis, w.pool, 5);
    expect((await post(w.urls[0]!, "/v1/claims", { userId: "u1" }, TOKEN_A)).status).toBe(201);
    expect((await post(w.urls[0]!, "/v1/claims", { userId: "u2" }, TOKEN_A)).status).toBe(201);
    const over = await post(w.urls[0]!, "/v1/claims", { userId: "u3" }, TOKEN_A);
    expect(over.status).toBe(429);
    expect(over.json).toMatchObject({ quota: "client", limit: 2 });
    expect(over.json.detail).toMatch(/this client \(bearer token\) already holds 2 live claims/);
    expect((await post(w.urls[0]!, "/v1/claims", { userId: "u3" }, TOKEN_B)).status).toBe(201);
    // No token in any Redis key: the quota is keyed by a digest.
    const keys = await redis.keys(`${w.keys.prefix}quota:*`);
    expect(keys.length).toBeGreaterThan(0);
    expect(keys.join(" ")).not.toContain(TOKEN_A);
  });

  it("a full waiting queue: 503 + Retry-After naming it, the queue not grown", async () => {
    const w = await world({ maxWaiting: 2, maxClaimsPerUser: 0 });
    const pending = [1, 2].map((i) => post(w.urls[0]!, "/v1/claims", { userId: `wait${i}`, waitMs: 30_000 }));
    await waitFor("two queued", async () => (await redis.llen(w.keys.waiting)) === 2);
    const over = await post(w.urls[0]!, "/v1/claims", { userId: "wait3", waitMs: 30_000 });
    expect(over.status).toBe(503);
    expect(over.retryAfter).toBe("4");
    expect(over.json.detail).toMatch(/waiting queue is full \(2 claims waiting\)/);
    expect(await redis.llen(w.keys.waiting)).toBe(2);
    const text = await (await fetch(`${w.urls[0]!}/metrics`)).text();
    expect(text).toContain(`warmpool_claims_total{pool="${w.pool}",outcome="rejected"} 1`);
    await registerWarm(redis, w.pool, 2);
    expect((await Promise.all(pending)).map((r) => r.status)).toEqual([201, 201]);
  });

  it("lease cap: a longer lease or heartbeat is 400 naming leaseSeconds; the desired state's lease is capped", async () => {
    const w = await world({ maxLeaseSeconds: 600 });
    await registerWarm(redis, w.pool, 2);
    const long = await post(w.urls[0]!, "/v1/claims", { userId: "erin", leaseSeconds: 601 });
    expect(long.status).toBe(400);
    expect(long.json.detail).toMatch(/leaseSeconds: must be between 5 and 600/);
    const ok = await post(w.urls[0]!, "/v1/claims", { userId: "erin", leaseSeconds: 600 });
    expect(ok.status).toBe(201);
    const hb = await post(w.urls[0]!, `/v1/claims/${String(ok.json.claimId)}/heartbeat`, {
      leaseSeconds: 7_200,
    });
    expect(hb.status).toBe(400);
    expect(hb.json.detail).toMatch(/leaseSeconds: must be between 5 and 600/);

    // On-call sets a 24 h lease in the desired state: claims naming none still get at most 600 s.
    await redis.set(w.keys.config, JSON.stringify({ leaseSeconds: 86_400 }));
    const capped = await runGateway({
      pool: w.pool,
      redisUrl: server.url,
      host: "127.0.0.1",
      port: 0,
      tokens: TOKEN_A,
      defaultLeaseSeconds: 60,
      defaultWaitMs: 0,
      maxWaitMs: 60_000,
      readyTimeoutMs: 10_000,
      retryAfterSeconds: 1,
      maxLeaseSeconds: 600,
    });
    cleanup.push(() => capped.close());
    const c = await post(capped.url, "/v1/claims", { userId: "fred" });
    expect(c.status).toBe(201);
    const assignedAt = Number(await redis.hget(w.keys.claim(String(c.json.claimId)), "assignedAt"));
    expect(Number(await redis.zscore(w.keys.claims, String(c.json.claimId))) - assignedAt).toBe(600_000);
  });

  it("refuses a default lease above the cap and negative quotas at start, naming each", async () => {
    await expect(
      runGateway({
        pool: uniquePool("bad"),
        redisUrl: server.url,
        host: "127.0.0.1",
        port: 0,
        tokens: TOKEN_A,
        defaultLeaseSeconds: 7_200,
        defaultWaitMs: 0,
        maxWaitMs: 60_000,
        readyTimeoutMs: 10_000,
        retryAfterSeconds: 1,
        maxLeaseSeconds: 3_600,
        maxClaimsPerUser: -1,
      }),
    ).rejects.toThrow(
      /maxClaimsPerUser: must be an integer ≥ 0.*defaultLeaseSeconds: must not exceed maxLeaseSeconds \(3600\)/,
    );
  });
});
