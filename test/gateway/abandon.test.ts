/**
 * A caller that goes away before its answer — a real HTTP request aborted by the client — loses
 * its claim at once: a queued claim leaves the queue, a taken task drains and never returns to the
 * pool. Before this, such a claim stayed for its whole lease (up to 24 h) and its task was lost.
 * Checked in Redis, not in the gateway's own report.
 */
import { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { ClaimKeys } from "../../pkg/claims/index.js";
import { runGateway } from "../../pkg/gateway/index.js";
import { startPrivateRedis, uniquePool, waitFor, type PrivateRedis } from "../harness/index.js";
import { registerWarm } from "../claims/stand-in.js";

const TOKEN = "abandon-token-0123456789abcdef";
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

let pool: string;
let keys: ClaimKeys;
let gw: Awaited<ReturnType<typeof runGateway>>;
beforeEach(async () => {
  pool = uniquePool("ab");
  keys = new ClaimKeys(pool);
  gw = await runGateway({
    pool,
    redisUrl: server.url,
    host: "127.0.0.1",
    port: 0,
    tokens: TOKEN,
    defaultLeaseSeconds: 3_600,
    defaultWaitMs: 0,
    maxWaitMs: 60_000,
    // No bridge answers in these tests: an assigned claim would wait this long for ready.
    readyTimeoutMs: 60_000,
    retryAfterSeconds: 1,
    maxLeaseSeconds: 86_400,
  });
});
afterEach(async () => {
  await gw.close();
});

/** Starts a claim and returns its abort; the request is left pending (no bridge answers). */
function startClaim(
  body: object,
  headers: Record<string, string> = {},
): { abort(): void; done: Promise<unknown> } {
  const ac = new AbortController();
  const done = fetch(`${gw.url}/v1/claims`, {
    method: "POST",
    headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
    signal: ac.signal,
  }).catch((e: unknown) => e);
  return { abort: () => ac.abort(), done };
}

async function metric(outcome: string): Promise<number> {
  const text = await (await fetch(`${gw.url}/metrics`)).text();
  const m = new RegExp(`warmpool_claims_total\\{pool="${pool}",outcome="${outcome}"\\} (\\d+)`).exec(text);
  return Number(m?.[1] ?? 0);
}

describe("a claim whose caller went away is released (real aborted HTTP requests)", () => {
  it("queued: the claim leaves the waiting queue and ends released", async () => {
    const c = startClaim({ userId: "gone-q", waitMs: 60_000 });
    await waitFor("queued", async () => (await redis.llen(keys.waiting)) === 1);
    const [claimId] = await redis.lrange(keys.waiting, 0, 0);
    c.abort();
    await c.done;
    await waitFor("released", async () => (await redis.hget(keys.claim(claimId!), "state")) === "released");
    expect(await redis.llen(keys.waiting)).toBe(0);
    // A task registering now stays warm: nobody is waiting for it.
    const [taskId] = await registerWarm(redis, pool, 1);
    expect(await redis.hget(keys.task(taskId!), "state")).toBe("warm");
    await waitFor("counted as abandoned", async () => (await metric("abandoned")) === 1);
  });

  it("assigned, not yet ready: the task drains (never back to the pool), the lease is gone", async () => {
    const [taskId] = await registerWarm(redis, pool, 1);
    const c = startClaim({ userId: "gone-a" });
    await waitFor("taken", async () => (await redis.hget(keys.task(taskId!), "state")) === "claimed");
    const claimId = (await redis.hget(keys.task(taskId!), "claimId"))!;
    expect(await redis.zscore(keys.claims, claimId)).not.toBeNull();
    c.abort();
    await c.done;
    await waitFor("draining", async () => (await redis.hget(keys.task(taskId!), "state")) === "draining");
    expect(await redis.hget(keys.task(taskId!), "drainReason")).toBe("caller-gone");
    expect(await redis.hget(keys.claim(claimId), "state")).toBe("released");
    expect(await redis.zscore(keys.claims, claimId)).toBeNull();
    expect(await redis.zscore(keys.warm, taskId!)).toBeNull();
    // The bridge is told to end the session it was preparing.
    const inbox = (await redis.lrange(keys.inbox(taskId!), 0, -1)).map(
      (m) => JSON.parse(m) as { type: string },
    );
    expect(inbox.map((m) => m.type)).toEqual(["init_user", "release"]);
  });

  it("with an Idempotency-Key: the key is freed, so the retry makes a new claim", async () => {
    const c = startClaim({ userId: "gone-i", waitMs: 60_000 }, { "idempotency-key": "retry-after-drop" });
    await waitFor("queued", async () => (await redis.llen(keys.waiting)) === 1);
    const [first] = await redis.lrange(keys.waiting, 0, 0);
    c.abort();
    await c.done;
    await waitFor("released", async () => (await redis.hget(keys.claim(first!), "state")) === "released");
    expect(await redis.exists(keys.idempotency("retry-after-drop"))).toBe(0);
    const again = startClaim({ userId: "gone-i", waitMs: 60_000 }, { "idempotency-key": "retry-after-drop" });
    await waitFor("queued again", async () => (await redis.llen(keys.waiting)) === 1);
    const [second] = await redis.lrange(keys.waiting, 0, 0);
    expect(second).not.toBe(first);
    again.abort();
    await again.done;
  });

  it("a caller still connected keeps its queued claim", async () => {
    const c = startClaim({ userId: "stays", waitMs: 60_000 });
    await waitFor("queued", async () => (await redis.llen(keys.waiting)) === 1);
    const [claimId] = await redis.lrange(keys.waiting, 0, 0);
    await new Promise((r) => setTimeout(r, 300));
    expect(await redis.hget(keys.claim(claimId!), "state")).toBe("waiting");
    c.abort();
    await c.done;
  });
});
