/**
 * `GET /v1/pool` costs O(1) Redis work: with 10,000 task records, one call runs no script and a
 * handful of O(1)/O(log N) commands, counted by the real redis-server (`INFO commandstats`), not
 * by the gateway. Its figures agree with Redis's own structures.
 */
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ClaimKeys } from "../../pkg/claims/index.js";
import { runGateway } from "../../pkg/gateway/index.js";
import { startPrivateRedis, uniquePool, type PrivateRedis } from "../harness/index.js";
import { registerWarm, startReadyResponder } from "../claims/stand-in.js";

const TOKEN = "summary-token-0123456789abcdef";
const RECORDS = 10_000;
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

/** Calls per command since the last RESETSTAT, from the server. */
async function commandCalls(): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const m of (await redis.info("commandstats")).matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm))
    out[m[1]!] = Number(m[2]);
  return out;
}

describe("GET /v1/pool from O(1) reads", () => {
  it(`with ${RECORDS} records: no script, a few O(1) commands, figures that match Redis`, async () => {
    const pool = uniquePool("sum");
    const keys = new ClaimKeys(pool);
    const gw = await runGateway({
      pool,
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
    const responder = await startReadyResponder(redis, new Redis(server.url), pool);
    const auth = { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" };
    try {
      await registerWarm(redis, pool, RECORDS);
      for (const u of ["s1", "s2"]) {
        const r = await fetch(`${gw.url}/v1/claims`, {
          method: "POST",
          headers: auth,
          body: `{"userId":"${u}"}`,
        });
        expect(r.status).toBe(201);
      }
      // The reconciler's last pass, as it publishes it.
      const updatedAtMs = Date.now() - 1_000;
      await redis.set(
        keys.status,
        JSON.stringify({ pool, updatedAtMs, counts: { starting: 3, draining: 2, warm: 0, claimed: 0 } }),
      );
      expect(await redis.scard(keys.tasks)).toBe(RECORDS);

      await redis.config("RESETSTAT");
      const res = await fetch(`${gw.url}/v1/pool`, { headers: auth });
      const calls = await commandCalls();
      expect(res.status).toBe(200);
      const body = (await res.json()) as Record<string, unknown>;
      expect(body).toMatchObject({
        pool,
        tasks: { warm: await redis.zcard(keys.warm), claimed: 2, starting: 3, draining: 2 },
        waiting: 0,
        countedAt: new Date(updatedAtMs).toISOString(),
      });
      expect((body.tasks as { warm: number }).warm).toBe(RECORDS - 2);
      expect(body.oldestWarmAgeMs).toBeGreaterThanOrEqual(0);

      // What the server ran for that call (plus the INFO that reads it): no script, no scan.
      const ran = Object.keys(calls).filter((c) => c !== "info" && c !== "config|resetstat");
      expect(ran.filter((c) => /eval|fcall|smembers|hgetall|scan|keys/.test(c))).toEqual([]);
      const total = ran.reduce((n, c) => n + calls[c]!, 0);
      expect(total).toBeLessThanOrEqual(10);
    } finally {
      await responder.stop();
      await gw.close();
    }
  });

  it("without a reconciler status: live figures, starting and draining null", async () => {
    const pool = uniquePool("sum0");
    const gw = await runGateway({
      pool,
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
    try {
      await registerWarm(redis, pool, 3);
      const body = (await (
        await fetch(`${gw.url}/v1/pool`, { headers: { authorization: `Bearer ${TOKEN}` } })
      ).json()) as Record<string, unknown>;
      expect(body).toEqual({
        pool,
        tasks: { starting: null, warm: 3, claimed: 0, draining: null },
        waiting: 0,
        oldestWarmAgeMs: body.oldestWarmAgeMs,
        countedAt: null,
      });
    } finally {
      await gw.close();
    }
  });
});
