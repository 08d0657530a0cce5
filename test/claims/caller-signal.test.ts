/**
 * The library side of "a claim released when its caller goes away": `ClaimRequest.signal`.
 * Aborted before the result settles, the claim is released (queued: out of the queue; assigned:
 * the task drains) and counted `abandoned`; aborted after a ready result, nothing happens — the
 * session is the caller's. Against a real redis-server; states read from Redis.
 */
import { Redis } from "ioredis";
import { Registry } from "prom-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ClaimKeys, ClaimService } from "../../pkg/claims/index.js";
import { createMetrics } from "../../pkg/metrics/index.js";
import { startPrivateRedis, uniquePool, type PrivateRedis } from "../harness/index.js";
import { registerWarm, startReadyResponder } from "./stand-in.js";

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

async function service(): Promise<{ svc: ClaimService; keys: ClaimKeys; pool: string; registry: Registry }> {
  const pool = uniquePool("sig");
  const registry = new Registry();
  const svc = new ClaimService({
    pool,
    redis,
    metrics: createMetrics(registry, { defaults: false }),
    readyTimeoutMs: 60_000,
  });
  await svc.start();
  return { svc, keys: new ClaimKeys(pool), pool, registry };
}

describe("ClaimRequest.signal", () => {
  it("aborted while queued or assigned: released in Redis, result ended, counted abandoned", async () => {
    const { svc, keys, pool, registry } = await service();
    try {
      const q = new AbortController();
      const queued = await svc.begin({ userId: "q", waitMs: 60_000, signal: q.signal });
      expect(queued.stage).toBe("queued");
      q.abort();
      expect(await queued.result).toMatchObject({ outcome: "ended", state: "released" });
      expect(await redis.llen(keys.waiting)).toBe(0);

      const [taskId] = await registerWarm(redis, pool, 1);
      const a = new AbortController();
      const assigned = await svc.begin({ userId: "a", waitMs: 0, signal: a.signal });
      expect(assigned).toMatchObject({ stage: "assigned", taskId });
      a.abort();
      expect(await assigned.result).toMatchObject({ outcome: "ended", state: "released" });
      expect(await redis.hmget(keys.task(taskId!), "state", "drainReason")).toEqual([
        "draining",
        "caller-gone",
      ]);

      // Already aborted when the claim is made: released as soon as the script answered.
      const [t2] = await registerWarm(redis, pool, 1);
      const early = await svc.begin({ userId: "e", waitMs: 0, signal: AbortSignal.abort() });
      expect(await early.result).toMatchObject({ outcome: "ended", state: "released" });
      expect(await redis.hget(keys.task(t2!), "state")).toBe("draining");

      const text = await registry.metrics();
      expect(text).toContain(`warmpool_claims_total{pool="${pool}",outcome="abandoned"} 3`);
    } finally {
      await svc.close();
    }
  });

  it("aborted after the claim is ready: ignored, the session stays the caller's", async () => {
    const { svc, keys, pool } = await service();
    const responder = await startReadyResponder(redis, new Redis(server.url), pool);
    try {
      await registerWarm(redis, pool, 1);
      const ac = new AbortController();
      const r = await svc.claim({ userId: "keep", waitMs: 0, signal: ac.signal });
      if (r.outcome !== "ready") throw new Error(`claim: ${r.outcome}`);
      ac.abort();
      await new Promise((res) => setTimeout(res, 200));
      expect(await redis.hget(keys.claim(r.claim.claimId), "state")).toBe("ready");
      expect(await redis.hget(keys.task(r.claim.taskId), "state")).toBe("claimed");
    } finally {
      await responder.stop();
      await svc.close();
    }
  });
});
