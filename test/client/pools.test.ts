/**
 * WarmpoolClient's `pool` option against a real gateway serving a default pool and registered
 * ones: per client, per call (over the client's), through keepAlive and withSession, and none (the
 * default pool's routes, as before). Claims are counted in each pool's Redis keys; every response
 * the client receives is checked against api/openapi.json.
 */
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ClaimKeys } from "../../pkg/claims/index.js";
import { GatewayError, WarmpoolClient } from "../../pkg/client/index.js";
import { runGateway } from "../../pkg/gateway/index.js";
import { PoolRegistry } from "../../pkg/pools/index.js";
import { startPrivateRedis, uniquePool, type PrivateRedis } from "../harness/index.js";
import { checkResponse } from "../harness/contract.js";
import { registerWarm, startReadyResponder, type ReadyResponder } from "../claims/stand-in.js";

const TOKEN = "client-pools-token-0123456789";
let server: PrivateRedis;
let redis: Redis;
let gw: Awaited<ReturnType<typeof runGateway>>;
const responders: ReadyResponder[] = [];
const def = uniquePool("cdef");
const a = uniquePool("ca");
const b = uniquePool("cb");

/** fetch that checks every answer against the OpenAPI document. */
const checkedFetch: typeof fetch = async (input, init) => {
  const res = await fetch(input, init);
  const body: unknown = await res
    .clone()
    .json()
    .catch(() => undefined);
  checkResponse(
    init?.method ?? "GET",
    new URL(String(input)).pathname,
    res.status,
    res.headers.get("content-type"),
    body,
  );
  return res;
};

beforeAll(async () => {
  server = await startPrivateRedis();
  redis = new Redis(server.url);
  const registry = new PoolRegistry(redis);
  for (const p of [a, b]) await registry.create(p, { who: "test" });
  gw = await runGateway({
    pool: def,
    redisUrl: server.url,
    host: "127.0.0.1",
    port: 0,
    tokens: TOKEN,
    defaultLeaseSeconds: 60,
    defaultWaitMs: 0,
    maxWaitMs: 60_000,
    readyTimeoutMs: 10_000,
    retryAfterSeconds: 1,
  });
  for (const p of [def, a, b]) {
    responders.push(await startReadyResponder(redis, new Redis(server.url), p));
    await registerWarm(redis, p, 4);
  }
});
afterAll(async () => {
  for (const r of responders) await r.stop();
  await gw?.close();
  redis?.disconnect();
  await server?.stop();
});

const claimState = (pool: string, claimId: string): Promise<string | null> =>
  redis.hget(new ClaimKeys(pool).claim(claimId), "state");

describe("WarmpoolClient: the pool option", () => {
  it("per client and per call: each claim, heartbeat and release lands in the pool named", async () => {
    const client = new WarmpoolClient({ baseUrl: gw.url, token: TOKEN, pool: a, fetch: checkedFetch });
    const ca = await client.claim({ userId: "alice" });
    expect(await claimState(a, ca.claimId)).toBe("ready");
    const cb = await client.claim({ userId: "bob" }, { pool: b });
    expect(await claimState(b, cb.claimId)).toBe("ready");
    expect(await claimState(a, cb.claimId)).toBeNull();

    expect((await client.heartbeat(ca.claimId, { leaseSeconds: 90 })).claimId).toBe(ca.claimId);
    // The claim is b's: addressing the client's pool a does not find it.
    const wrong = await client.heartbeat(cb.claimId).catch((e: unknown) => e);
    expect(wrong).toBeInstanceOf(GatewayError);
    expect((wrong as GatewayError).status).toBe(404);
    expect((await client.heartbeat(cb.claimId, { pool: b })).claimId).toBe(cb.claimId);

    expect(await client.status(ca.claimId)).toMatchObject({
      claimId: ca.claimId,
      state: "ready",
      taskId: ca.taskId,
    });
    expect((await client.status(cb.claimId, { pool: b })).state).toBe("ready");
    expect(await client.pool()).toMatchObject({ pool: a, tasks: { claimed: 1 } });
    expect(await client.pool({ pool: b })).toMatchObject({ pool: b, tasks: { claimed: 1 } });

    expect((await client.release(ca.claimId)).state).toBe("released");
    expect((await client.release(cb.claimId, { pool: b })).state).toBe("released");
    expect(await claimState(a, ca.claimId)).toBe("released");
    expect(await claimState(b, cb.claimId)).toBe("released");
  });

  it("withSession in a pool: claim, heartbeats and release all address that pool", async () => {
    const seen: string[] = [];
    const recording: typeof fetch = async (input, init) => {
      const res = await checkedFetch(input, init);
      seen.push(`${init?.method ?? "GET"} ${new URL(String(input)).pathname} ${res.status}`);
      return res;
    };
    const client = new WarmpoolClient({ baseUrl: gw.url, token: TOKEN, fetch: recording });
    let id = "";
    await client.withSession(
      { userId: "carol", leaseSeconds: 30 },
      async (c) => {
        id = c.claimId;
        expect(await claimState(b, id)).toBe("ready");
        await new Promise((r) => setTimeout(r, 150)); // a few heartbeats
      },
      { pool: b, heartbeatMs: 40 },
    );
    expect(await claimState(b, id)).toBe("released");
    expect(seen[0]).toBe(`POST /v1/pools/${b}/claims 201`);
    expect(seen).toContain(`POST /v1/pools/${b}/claims/${id}/heartbeat 200`);
    expect(seen.at(-1)).toBe(`DELETE /v1/pools/${b}/claims/${id} 200`);
    expect(
      seen.every((l) => l.startsWith(`POST /v1/pools/${b}/`) || l.startsWith(`DELETE /v1/pools/${b}/`)),
    ).toBe(true);
  });

  it("no pool: the default pool's routes, as before; pools() lists what the gateway serves", async () => {
    const client = new WarmpoolClient({ baseUrl: gw.url, token: TOKEN, fetch: checkedFetch });
    const c = await client.claim({ userId: "dan" });
    expect(await claimState(def, c.claimId)).toBe("ready");
    expect((await client.pool()).pool).toBe(def);
    expect((await client.release(c.claimId)).state).toBe("released");
    const { pools } = await client.pools();
    expect(pools.map((p) => p.name)).toEqual(expect.arrayContaining([def, a, b]));
    expect(pools.find((p) => p.default)?.name).toBe(def);
  });

  it("an unknown or invalid pool is a GatewayError naming it", async () => {
    const client = new WarmpoolClient({ baseUrl: gw.url, token: TOKEN, fetch: checkedFetch });
    const typo = a.slice(0, -1);
    const e = (await client
      .claim({ userId: "erin" }, { pool: typo })
      .catch((x: unknown) => x)) as GatewayError;
    expect(e).toBeInstanceOf(GatewayError);
    expect([e.status, e.kind, e.problem.field]).toEqual([404, "not-found", "pool"]);
    expect(e.problem.detail).toContain(`did you mean "${a}"?`);
    const bad = (await client.pool({ pool: "Not_A_Pool" }).catch((x: unknown) => x)) as GatewayError;
    expect([bad.status, bad.kind, bad.problem.field]).toEqual([400, "invalid-input", "pool"]);
  });
});
