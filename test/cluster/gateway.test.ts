import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startPrivateCluster, type PrivateCluster } from "../../hack/redis/private-cluster.js";
import { ClaimKeys } from "../../pkg/claims/index.js";
import { runGateway } from "../../pkg/gateway/index.js";
import { createRedis } from "../../pkg/redis/index.js";
import { uniquePool } from "../harness/index.js";
import { registerWarm, startReadyResponder } from "../claims/stand-in.js";

const TOKEN = "test-token-0123456789abcdef";

/** `warmpool gateway --redis-url redis+cluster://…` over HTTP on a 3-master Redis Cluster. */
describe("gateway on a Redis Cluster", () => {
  let cluster: PrivateCluster;
  let redis: Redis;
  beforeAll(async () => {
    cluster = await startPrivateCluster(3);
    redis = createRedis(cluster.url, { offlineQueue: true });
  }, 60_000);
  afterAll(async () => {
    redis?.disconnect();
    await cluster?.stop();
  });

  it("/readyz, claims answered 201 once ready, the pool view, a release", async () => {
    const pool = uniquePool("cg");
    const keys = new ClaimKeys(pool);
    const gw = await runGateway({
      pool,
      redisUrl: cluster.url,
      host: "127.0.0.1",
      port: 0,
      tokens: TOKEN,
      defaultLeaseSeconds: 60,
      defaultWaitMs: 0,
      maxWaitMs: 10_000,
      readyTimeoutMs: 10_000,
      retryAfterSeconds: 1,
    });
    const responder = await startReadyResponder(redis, createRedis(cluster.url, { use: "blocking" }), pool);
    const call = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(`${gw.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      return { status: res.status, json: (await res.json()) as Record<string, unknown> };
    };
    try {
      expect((await call("GET", "/readyz")).status).toBe(200);
      const ids = await registerWarm(redis, pool, 5);
      const served = [];
      for (let i = 0; i < 5; i++) {
        const c = await call("POST", "/v1/claims", { userId: `u${i}` });
        expect(c.status).toBe(201);
        served.push(c.json.taskId as string);
      }
      expect(served.sort()).toEqual([...ids].sort());
      expect((await call("POST", "/v1/claims", { userId: "late" })).status).toBe(503);
      const view = await call("GET", "/v1/pool");
      expect(view.status).toBe(200);
      const claimId = await redis.hget(keys.task(served[0]!), "claimId");
      expect((await call("DELETE", `/v1/claims/${claimId}`)).status).toBe(200);
      expect(await redis.hget(keys.task(served[0]!), "state")).toBe("draining");
    } finally {
      await responder.stop();
      await gw.close();
    }
  });
});
