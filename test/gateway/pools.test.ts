/**
 * One gateway, many pools: `/v1/pools/{pool}/…` serves every pool of the registry (`wp:pools`), the
 * single-pool routes stay aliases of the default pool, an unknown pool is a 404 naming it (with a
 * did-you-mean), a bad name a 400 naming the rule, and quotas stay per pool. Every count is read
 * from Redis; every answer is checked against api/openapi.json.
 */
import { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { ClaimKeys } from "../../pkg/claims/index.js";
import { runGateway, type GatewayConfig } from "../../pkg/gateway/index.js";
import { PoolRegistry } from "../../pkg/pools/index.js";
import { startPrivateRedis, uniquePool, type PrivateRedis } from "../harness/index.js";
import { checkResponse, checkedResponses } from "../harness/contract.js";
import { registerWarm, startReadyResponder } from "../claims/stand-in.js";

const TOKEN = "pools-token-0123456789abcdef";
let server: PrivateRedis;
let redis: Redis;
let registry: PoolRegistry;
beforeAll(async () => {
  server = await startPrivateRedis();
  redis = new Redis(server.url);
  registry = new PoolRegistry(redis);
});
afterAll(async () => {
  redis?.disconnect();
  await server?.stop();
});

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

/** A gateway (default pool `def` unless null) and pools, registered, each with a ready stand-in. */
async function world(
  o: { registered?: number; defaultPool?: boolean; limits?: Partial<GatewayConfig> } = {},
): Promise<{ url: string; def?: string; pools: string[] }> {
  const pools: string[] = [];
  for (let i = 0; i < (o.registered ?? 2); i++) {
    const p = uniquePool("mp");
    expect(await registry.create(p, { who: "test" })).toBe("created");
    pools.push(p);
  }
  const def = o.defaultPool === false ? undefined : uniquePool("df");
  const gw = await runGateway({
    ...(def !== undefined ? { pool: def } : {}),
    redisUrl: server.url,
    host: "127.0.0.1",
    port: 0,
    tokens: TOKEN,
    defaultLeaseSeconds: 60,
    defaultWaitMs: 0,
    maxWaitMs: 60_000,
    readyTimeoutMs: 10_000,
    retryAfterSeconds: 3,
    ...o.limits,
  });
  cleanup.push(() => gw.close());
  for (const p of def !== undefined ? [def, ...pools] : pools) {
    const r = await startReadyResponder(redis, new Redis(server.url), p);
    cleanup.push(() => r.stop());
  }
  return { url: gw.url, ...(def !== undefined ? { def } : {}), pools };
}

async function call(
  url: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${url}${path}`, {
    method,
    headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    json = { raw: text };
  }
  checkResponse(method, path, res.status, res.headers.get("content-type"), json);
  return { status: res.status, json };
}

/** warm, claims and records of each pool, from Redis. */
async function counts(pool: string): Promise<{ warm: number; claims: number; records: number }> {
  const k = new ClaimKeys(pool);
  const [warm, claims, records] = await Promise.all([
    redis.zcard(k.warm),
    redis.zcard(k.claims),
    redis.keys(`${k.claimPrefix}*`).then((x) => x.length),
  ]);
  return { warm, claims, records };
}

describe("gateway: every pool of the registry under /v1/pools/{pool}/…", () => {
  it("claims, heartbeats, reads and releases in the pool the path names, and only there", async () => {
    const w = await world();
    const [a, b] = w.pools as [string, string];
    const taskA = await registerWarm(redis, a, 2, "a");
    await registerWarm(redis, b, 3, "b");
    await registerWarm(redis, w.def!, 1, "d");

    const c = await call(w.url, "POST", `/v1/pools/${a}/claims`, { userId: "alice" });
    expect(c.status).toBe(201);
    expect(taskA).toContain(c.json.taskId);
    const claimId = String(c.json.claimId);
    const ka = new ClaimKeys(a);
    expect(await redis.hget(ka.claim(claimId), "state")).toBe("ready");
    expect(await redis.hget(ka.task(String(c.json.taskId)), "state")).toBe("claimed");
    expect(await counts(a)).toMatchObject({ warm: 1, claims: 1 });
    expect(await counts(b)).toMatchObject({ warm: 3, claims: 0, records: 0 });
    expect(await counts(w.def!)).toMatchObject({ warm: 1, claims: 0, records: 0 });

    // The claim lives in pool a: pool b's routes (and the default pool's aliases) do not know it.
    expect((await call(w.url, "POST", `/v1/pools/${b}/claims/${claimId}/heartbeat`)).status).toBe(404);
    expect((await call(w.url, "DELETE", `/v1/pools/${b}/claims/${claimId}`)).status).toBe(404);
    expect((await call(w.url, "DELETE", `/v1/claims/${claimId}`)).status).toBe(404);
    expect(await redis.hget(ka.claim(claimId), "state")).toBe("ready");

    const hb = await call(w.url, "POST", `/v1/pools/${a}/claims/${claimId}/heartbeat`, { leaseSeconds: 120 });
    expect(hb.status).toBe(200);
    expect(Number(await redis.zscore(ka.claims, claimId))).toBe(Date.parse(String(hb.json.leaseExpiresAt)));

    const s = await call(w.url, "GET", `/v1/pools/${b}`);
    expect(s).toMatchObject({ status: 200, json: { pool: b, tasks: { warm: 3, claimed: 0 }, waiting: 0 } });
    expect((await call(w.url, "GET", `/v1/pools/${a}`)).json).toMatchObject({
      pool: a,
      tasks: { warm: 1, claimed: 1 },
    });

    const st = await call(w.url, "GET", `/v1/pools/${a}/claims/${claimId}`);
    expect(st).toMatchObject({
      status: 200,
      json: { claimId, state: "ready", userId: "alice", taskId: c.json.taskId, warm: true, endedAt: null },
    });
    expect(st.json.leaseExpiresAt).toBe(hb.json.leaseExpiresAt);
    expect(st.json).not.toHaveProperty("token");
    expect((await call(w.url, "GET", `/v1/pools/${b}/claims/${claimId}`)).status).toBe(404);

    const del = await call(w.url, "DELETE", `/v1/pools/${a}/claims/${claimId}`);
    expect(del).toMatchObject({ status: 200, json: { claimId, state: "released" } });
    expect(await redis.hget(ka.task(String(c.json.taskId)), "state")).toBe("draining");
    const ended = await call(w.url, "GET", `/v1/pools/${a}/claims/${claimId}`);
    expect(ended.json).toMatchObject({ state: "released", leaseExpiresAt: null });
    expect(ended.json.state).toBe(await redis.hget(ka.claim(claimId), "state"));

    // The aliases answer for the default pool, and so does its name under /v1/pools/.
    const d = await call(w.url, "POST", "/v1/claims", { userId: "dora" });
    expect(d.status).toBe(201);
    expect(await redis.hget(new ClaimKeys(w.def!).claim(String(d.json.claimId)), "state")).toBe("ready");
    expect((await call(w.url, "GET", "/v1/pool")).json).toMatchObject({ pool: w.def, tasks: { claimed: 1 } });
    expect((await call(w.url, "GET", `/v1/claims/${String(d.json.claimId)}`)).json.state).toBe("ready");
    expect((await call(w.url, "GET", "/v1/claims/not-a-uuid")).json).toMatchObject({
      status: 400,
      field: "claimId",
    });
    expect(
      (await call(w.url, "DELETE", `/v1/pools/${w.def!}/claims/${String(d.json.claimId)}`)).json.state,
    ).toBe("released");

    const list = await call(w.url, "GET", "/v1/pools");
    const names = (list.json.pools as { name: string; default: boolean }[]).map((p) => [p.name, p.default]);
    expect(names).toEqual(
      expect.arrayContaining([
        [a, false],
        [b, false],
        [w.def, true],
      ]),
    );
  });

  it("a pool created after the gateway started is served at once", async () => {
    const w = await world({ registered: 0 });
    const late = uniquePool("late");
    expect((await call(w.url, "GET", `/v1/pools/${late}`)).status).toBe(404);
    await registry.create(late, { who: "test" });
    const r = await startReadyResponder(redis, new Redis(server.url), late);
    cleanup.push(() => r.stop());
    await registerWarm(redis, late, 1);
    expect((await call(w.url, "POST", `/v1/pools/${late}/claims`, { userId: "ann" })).status).toBe(201);
    expect(await counts(late)).toMatchObject({ warm: 0, claims: 1 });
  });

  it("an unknown pool: 404 naming it, with a did-you-mean when one is close; nothing written", async () => {
    const w = await world({ registered: 0 });
    const near = `gpu-${uniquePool("eu")}`;
    await registry.create(near, { who: "test" });
    const typo = near.replace("gpu-", "gpu");
    const before = await redis.dbsize();
    const r = await call(w.url, "POST", `/v1/pools/${typo}/claims`, { userId: "alice" });
    expect(r.status).toBe(404);
    expect(r.json).toMatchObject({ type: "urn:ecs-warmpool:problem:not-found", field: "pool", pool: typo });
    expect(r.json.detail).toBe(`pool: no pool "${typo}" is registered; did you mean "${near}"?`);
    const far = await call(w.url, "GET", "/v1/pools/zzzzzzzzzzzzzzzzzzzzzz");
    expect(far.status).toBe(404);
    expect(String(far.json.detail)).toMatch(/^pool: no pool "zzzzzzzzzzzzzzzzzzzzzz" is registered/);
    expect(String(far.json.detail)).not.toMatch(/did you mean/);
    expect(
      (await call(w.url, "DELETE", `/v1/pools/${typo}/claims/00000000-0000-4000-8000-000000000000`)).status,
    ).toBe(404);
    expect(await redis.dbsize()).toBe(before);
  });

  it.each([
    ["upper case", "GPU-eu"],
    ["an underscore", "gpu_eu"],
    ["over 36 characters", "p".repeat(37)],
    ["a leading dash", "-gpu"],
  ])("a pool name with %s: 400 naming the field and the rule, nothing written", async (_what, name) => {
    const w = await world({ registered: 0 });
    const before = await redis.dbsize();
    const r = await call(w.url, "POST", `/v1/pools/${name}/claims`, { userId: "alice" });
    expect(r.status).toBe(400);
    expect(r.json).toMatchObject({ type: "urn:ecs-warmpool:problem:invalid-input", field: "pool" });
    expect(String(r.json.detail)).toBe(
      `pool: must match ^[a-z0-9][a-z0-9-]{0,62}$ and be at most 36 characters (it is ECS startedBy) (got ${JSON.stringify(name)})`,
    );
    expect(await redis.dbsize()).toBe(before);
  });

  it("a pool being deleted takes no new claim (409), but its live claims renew and release", async () => {
    // No registry cache here, so the gateway sees the mark at once (by default it trusts an entry 2 s).
    const w = await world({ registered: 1, limits: { registryCacheMs: 0 } });
    const [p] = w.pools as [string];
    await registerWarm(redis, p, 2);
    const c = await call(w.url, "POST", `/v1/pools/${p}/claims`, { userId: "alice" });
    expect(c.status).toBe(201);
    expect(await registry.markDeleting(p, "test")).toBeDefined();
    const refused = await call(w.url, "POST", `/v1/pools/${p}/claims`, { userId: "bob" });
    expect(refused.status).toBe(409);
    expect(refused.json).toMatchObject({
      type: "urn:ecs-warmpool:problem:pool-deleting",
      pool: p,
      field: "pool",
    });
    expect(await counts(p)).toMatchObject({ warm: 1, claims: 1, records: 1 });
    const id = String(c.json.claimId);
    expect((await call(w.url, "POST", `/v1/pools/${p}/claims/${id}/heartbeat`)).status).toBe(200);
    expect((await call(w.url, "GET", `/v1/pools/${p}`)).status).toBe(200);
    expect((await call(w.url, "DELETE", `/v1/pools/${p}/claims/${id}`)).json.state).toBe("released");
  });

  it("quotas are per pool: a user at the quota in one pool still claims in another", async () => {
    const w = await world({ limits: { maxClaimsPerUser: 1 } });
    const [a, b] = w.pools as [string, string];
    await registerWarm(redis, a, 3);
    await registerWarm(redis, b, 3);
    expect((await call(w.url, "POST", `/v1/pools/${a}/claims`, { userId: "carl" })).status).toBe(201);
    const second = await call(w.url, "POST", `/v1/pools/${a}/claims`, { userId: "carl" });
    expect(second).toMatchObject({ status: 429, json: { quota: "user", limit: 1 } });
    expect((await call(w.url, "POST", `/v1/pools/${b}/claims`, { userId: "carl" })).status).toBe(201);
    expect(await counts(a)).toMatchObject({ warm: 2, claims: 1 });
    expect(await counts(b)).toMatchObject({ warm: 2, claims: 1 });
  });

  it("without --pool: the aliases are 404 saying how to address a pool; /v1/pools/{pool}/… serve", async () => {
    const w = await world({ registered: 1, defaultPool: false });
    const [p] = w.pools as [string];
    const alias = await call(w.url, "POST", "/v1/claims", { userId: "alice" });
    expect(alias.status).toBe(404);
    expect(String(alias.json.detail)).toMatch(/no default pool .*\/v1\/pools\/\{pool\}/);
    expect((await call(w.url, "GET", "/v1/pool")).status).toBe(404);
    await registerWarm(redis, p, 1);
    expect((await call(w.url, "POST", `/v1/pools/${p}/claims`, { userId: "alice" })).status).toBe(201);
    expect((await fetch(`${w.url}/readyz`)).status).toBe(200);
    const text = await (await fetch(`${w.url}/metrics`)).text();
    expect(text).toContain(`warmpool_claims_total{pool="${p}",outcome="hit"} 1`);
    expect(text).toContain(`warmpool_claims_waiting{pool="${p}"} 0`);
  });

  it("a wrong method is 405 before any lookup; an unknown sub-path 404", async () => {
    const w = await world({ registered: 1 });
    const [p] = w.pools as [string];
    expect((await call(w.url, "GET", `/v1/pools/${p}/claims`)).status).toBe(405);
    expect((await call(w.url, "POST", `/v1/pools/${p}`)).status).toBe(405);
    expect((await call(w.url, "POST", "/v1/pools")).status).toBe(405);
    expect((await call(w.url, "GET", `/v1/pools/${p}/nope`)).status).toBe(404);
  });
});

describe("the OpenAPI check of the pool routes", () => {
  it("checked real responses of every /v1/pools operation", () => {
    const ops = new Set([...checkedResponses.keys()].map((k) => k.split(" ")[0]));
    for (const op of [
      "claimInPool",
      "heartbeatInPool",
      "claimStatusInPool",
      "releaseInPool",
      "poolSummaryInPool",
      "listPools",
      "claimStatus",
    ]) {
      expect(ops, `no ${op} response was checked`).toContain(op);
    }
    expect(() =>
      checkResponse("GET", "/v1/pools", 200, "application/json", { pools: [{ name: "a" }] }),
    ).toThrow(/does not match the document/);
  });
});
