/** The gateway over HTTP, built as `warmpool gateway` builds it, against a real redis-server. */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { ClaimKeys } from "../../pkg/claims/index.js";
import { runGateway } from "../../pkg/gateway/index.js";
import { startPrivateRedis, uniquePool, waitFor, type PrivateRedis } from "../harness/index.js";
import { checkResponse, checkedResponses, fetchChecked } from "../harness/contract.js";
import { registerWarm, startReadyResponder, type ReadyResponder } from "../claims/stand-in.js";

const TOKEN = "test-token-0123456789abcdef";
const FILE_TOKEN = "file-token-0123456789abcdef";
let server: PrivateRedis;
let redis: Redis;
let dir: string;
beforeAll(async () => {
  server = await startPrivateRedis();
  redis = new Redis(server.url);
  dir = mkdtempSync(join(tmpdir(), "wp-gw-"));
  writeFileSync(join(dir, "tokens"), `# gateway clients\n${FILE_TOKEN}\n`);
});
afterAll(async () => {
  redis?.disconnect();
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

let pool: string;
let keys: ClaimKeys;
let gw: Awaited<ReturnType<typeof runGateway>>;
let responder: ReadyResponder;
beforeEach(async () => {
  pool = uniquePool("g");
  keys = new ClaimKeys(pool);
  gw = await runGateway({
    pool,
    redisUrl: server.url,
    host: "127.0.0.1",
    port: 0,
    tokens: TOKEN,
    tokensFile: join(dir, "tokens"),
    defaultLeaseSeconds: 60,
    defaultWaitMs: 0,
    maxWaitMs: 60_000,
    readyTimeoutMs: 10_000,
    retryAfterSeconds: 3,
  });
  responder = await startReadyResponder(redis, new Redis(server.url), pool);
});
afterEach(async () => {
  await responder.stop();
  await gw.close();
});

async function call(
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; json: Record<string, unknown>; headers: Headers }> {
  const res = await fetch(`${gw.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json", ...headers },
    ...(body === undefined ? {} : { body: typeof body === "string" ? body : JSON.stringify(body) }),
  });
  const text = await res.text();
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    json = { raw: text };
  }
  // Every answer is checked against the committed OpenAPI document.
  checkResponse(method, path, res.status, res.headers.get("content-type"), json);
  return { status: res.status, json, headers: res.headers };
}

/** Everything the pool holds in Redis, to prove a refused request changed nothing. */
async function poolKeys(): Promise<string[]> {
  return (await redis.keys(`${keys.prefix}*`)).filter((k) => k !== keys.events).sort();
}

describe("gateway HTTP API", () => {
  it("claims a warm task: 201 with endpoint and token once ready; heartbeat, pool, release", async () => {
    const ids = await registerWarm(redis, pool, 2);
    const c = await call("POST", "/v1/claims", { userId: "alice", leaseSeconds: 30 });
    expect(c.status).toBe(201);
    expect(Object.keys(c.json).sort()).toEqual([
      "claimId",
      "endpoint",
      "leaseExpiresAt",
      "taskId",
      "token",
      "warm",
    ]);
    expect(c.json.warm).toBe(true);
    expect(ids).toContain(c.json.taskId);
    expect(await redis.hget(keys.task(c.json.taskId as string), "claimId")).toBe(c.json.claimId);
    expect(await redis.hget(keys.claim(c.json.claimId as string), "state")).toBe("ready");
    const lease = Date.parse(c.json.leaseExpiresAt as string);

    const hb = await call("POST", `/v1/claims/${String(c.json.claimId)}/heartbeat`, { leaseSeconds: 120 });
    expect(hb.status).toBe(200);
    expect(Date.parse(hb.json.leaseExpiresAt as string)).toBeGreaterThan(lease);

    const p = await call("GET", "/v1/pool");
    expect(p.status).toBe(200);
    expect(p.json).toMatchObject({ pool, tasks: { warm: 1, claimed: 1 }, waiting: 0 });

    const del = await call("DELETE", `/v1/claims/${String(c.json.claimId)}`);
    expect(del).toMatchObject({ status: 200, json: { state: "released" } });
    expect(await redis.hget(keys.task(c.json.taskId as string), "state")).toBe("draining");
    expect((await call("DELETE", `/v1/claims/${String(c.json.claimId)}`)).json.state).toBe("released");
    const late = await call("POST", `/v1/claims/${String(c.json.claimId)}/heartbeat`);
    expect(late).toMatchObject({ status: 410, json: { state: "released" } });
    expect((await call("DELETE", "/v1/claims/00000000-0000-4000-8000-000000000000")).status).toBe(404);
  });

  it("no task in time: 503 with Retry-After, a clear message, the queue left empty", async () => {
    const r = await call("POST", "/v1/claims", { userId: "bob", waitMs: 200 });
    expect(r.status).toBe(503);
    expect(r.headers.get("retry-after")).toBe("3");
    expect(r.json.detail).toMatch(/no task ready in time/);
    expect(await redis.llen(keys.waiting)).toBe(0);
    const z = await call("POST", "/v1/claims", { userId: "bob" }); // default waitMs 0 here
    expect(z.status).toBe(503);
  });

  it("a queued claim is answered when a task registers", async () => {
    const pending = call("POST", "/v1/claims", { userId: "carol", waitMs: 30_000 });
    await waitFor("queued", async () => (await redis.llen(keys.waiting)) === 1);
    const [taskId] = await registerWarm(redis, pool, 1);
    const r = await pending;
    expect(r.status).toBe(201);
    expect(r.json).toMatchObject({ taskId, warm: false });
  });

  it("Idempotency-Key: a retry returns the same claim, another user gets 409", async () => {
    await registerWarm(redis, pool, 3);
    const h = { "idempotency-key": "retry-me-1" };
    const a = await call("POST", "/v1/claims", { userId: "dan" }, h);
    const b = await call("POST", "/v1/claims", { userId: "dan" }, h);
    expect(a.status).toBe(201);
    expect(b.status).toBe(201);
    expect(b.headers.get("idempotent-replayed")).toBe("true");
    expect(b.json.claimId).toBe(a.json.claimId);
    expect(b.json.taskId).toBe(a.json.taskId);
    expect(await redis.zcard(keys.warm)).toBe(2);
    const c = await call("POST", "/v1/claims", { userId: "eve" }, h);
    expect(c.status).toBe(409);
    expect(c.json.detail).toMatch(/Idempotency-Key/);
    expect(
      (await call("POST", "/v1/claims", { userId: "dan" }, { "idempotency-key": "has space" })).status,
    ).toBe(400);
  });

  it.each([
    ["malformed JSON", "{userId:", /body: malformed JSON/],
    ["not an object", "[1,2]", /body: must be a JSON object/],
    ["a typo'd field", { userid: "alice" }, /userid: unknown field/],
    ["no userId", {}, /userId: must be a string/],
    ["path traversal", { userId: "../etc" }, /userId: must not contain a path separator/],
    ["absolute path", { userId: "/etc/passwd" }, /userId: must not contain a path separator/],
    ["NUL", { userId: "a\u0000b" }, /userId: must not contain control characters/],
    ["look-alike unicode", { userId: "ａｄｍｉｎ" }, /userId: must be in Unicode NFKC/],
    ["overlong id", { userId: "a".repeat(200) }, /userId: must be at most 128/],
    ["leaseSeconds as a string", { userId: "a", leaseSeconds: "30" }, /leaseSeconds: must be an integer/],
    ["leaseSeconds out of range", { userId: "a", leaseSeconds: 1e9 }, /leaseSeconds: must be between/],
    ["negative waitMs", { userId: "a", waitMs: -1 }, /waitMs: must be between 0 and 60000/],
  ])("400 for %s, naming the field, changing nothing", async (_what, body, message) => {
    await registerWarm(redis, pool, 1);
    const before = await poolKeys();
    const r = await call("POST", "/v1/claims", body);
    expect(r.status).toBe(400);
    expect(r.headers.get("content-type")).toMatch(/^application\/problem\+json/);
    expect(r.json).toMatchObject({ type: "urn:ecs-warmpool:problem:invalid-input", status: 400 });
    expect(r.json.detail).toMatch(message);
    expect(String(r.json.detail).startsWith(`${String(r.json.field)}: `)).toBe(true);
    expect(await poolKeys()).toEqual(before);
    expect(await redis.zcard(keys.warm)).toBe(1);
  });

  it("huge bodies are refused with 413", async () => {
    const r = await call("POST", "/v1/claims", JSON.stringify({ userId: "a", pad: "x".repeat(100_000) }));
    expect(r.status).toBe(413);
    expect(await redis.exists(keys.waiting, keys.claims)).toBe(0);
  });

  it("auth: 401 without or with a wrong bearer token; tokens from env and file both work; probes are open", async () => {
    const { res: none, body } = await fetchChecked(`${gw.url}/v1/pool`);
    expect(none.status).toBe(401);
    expect(none.headers.get("www-authenticate")).toMatch(/Bearer/);
    expect(body).toMatchObject({ type: "urn:ecs-warmpool:problem:unauthorized", status: 401 });
    expect((await call("GET", "/v1/pool", undefined, { authorization: `Bearer ${TOKEN}x` })).status).toBe(
      401,
    );
    expect((await call("POST", "/v1/claims", { userId: "a" }, { authorization: "Basic abc" })).status).toBe(
      401,
    );
    expect((await call("GET", "/v1/pool", undefined, { authorization: `Bearer ${FILE_TOKEN}` })).status).toBe(
      200,
    );
    expect((await fetchChecked(`${gw.url}/healthz`)).res.status).toBe(200);
    expect((await fetchChecked(`${gw.url}/readyz`)).res.status).toBe(200);
    expect((await call("GET", "/v1/claims")).status).toBe(405);
    expect((await call("GET", "/v1/nope")).status).toBe(404);
    expect((await call("POST", "/v1/claims/not-a-uuid/heartbeat")).json.detail).toMatch(/claimId/);
  });

  it("/metrics: claims by outcome and allocation latency, under the contract's names", async () => {
    await registerWarm(redis, pool, 1);
    const idem = { "idempotency-key": "metrics-once" };
    expect((await call("POST", "/v1/claims", { userId: "m1" }, idem)).status).toBe(201);
    // A retry with the same key is the same claim: answered, not counted again.
    expect((await call("POST", "/v1/claims", { userId: "m1" }, idem)).status).toBe(201);
    expect((await call("POST", "/v1/claims", { userId: "m2" })).status).toBe(503);
    const text = await (await fetch(`${gw.url}/metrics`)).text();
    expect(text).toContain(`warmpool_claims_total{pool="${pool}",outcome="hit"} 1`);
    expect(text).toContain(`warmpool_claims_total{pool="${pool}",outcome="timeout"} 1`);
    expect(text).toMatch(
      new RegExp(`warmpool_claim_duration_seconds_count\\{pool="${pool}",outcome="hit"\\} 1`),
    );
    expect(text).toContain(`warmpool_claims_waiting{pool="${pool}"} 0`);
  });
});

describe("gateway when Redis is unreachable", () => {
  it("answers 503 with a clear message and /readyz fails, then recovers", async () => {
    const own = await startPrivateRedis();
    const p = uniquePool("u");
    const g = await runGateway({
      pool: p,
      redisUrl: own.url,
      host: "127.0.0.1",
      port: 0,
      tokens: TOKEN,
      defaultLeaseSeconds: 60,
      defaultWaitMs: 0,
      maxWaitMs: 60_000,
      readyTimeoutMs: 5_000,
      retryAfterSeconds: 2,
    });
    try {
      await own.kill();
      const auth = { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" };
      const { res: r, body } = await fetchChecked(`${g.url}/v1/claims`, {
        method: "POST",
        headers: auth,
        body: '{"userId":"a"}',
      });
      expect(r.status).toBe(503);
      expect(body).toMatchObject({ type: "urn:ecs-warmpool:problem:redis-unavailable" });
      expect((body as { detail: string }).detail).toMatch(/redis unavailable/);
      expect(r.headers.get("retry-after")).toBe("1");
      expect((await fetchChecked(`${g.url}/readyz`)).res.status).toBe(503);
      expect((await fetchChecked(`${g.url}/healthz`)).res.status).toBe(200);
      await own.restart();
      await waitFor(
        "readyz after redis restart",
        async () => (await fetch(`${g.url}/readyz`)).status === 200,
        30_000,
      );
      const again = await fetchChecked(`${g.url}/v1/claims`, {
        method: "POST",
        headers: auth,
        body: '{"userId":"a"}',
      });
      expect(again.res.status).toBe(503); // empty pool now, but answered
      expect((again.body as { detail: string }).detail).toMatch(/no task ready/);
    } finally {
      await g.close();
      await own.stop();
    }
  });
});

describe("the OpenAPI check", () => {
  it("checked real responses of every operation above, and rejects a body that breaks the document", () => {
    // Runs after the suites above in this file: each documented operation was exercised.
    const ops = new Set([...checkedResponses.keys()].map((k) => k.split(" ")[0]));
    for (const op of ["claim", "heartbeat", "release", "poolSummary", "healthz", "readyz"]) {
      expect(ops, `no ${op} response was checked`).toContain(op);
    }
    expect(() =>
      checkResponse("POST", "/v1/claims", 201, "application/json", { claimId: "x", taskId: "t" }),
    ).toThrow(/does not match the document/);
    expect(() =>
      checkResponse("POST", "/v1/claims", 400, "application/json", { error: "userId: must be a string" }),
    ).toThrow(/documented as application\/problem\+json/);
  });
});
