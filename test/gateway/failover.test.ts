/**
 * A Redis role change under a running gateway: its primary is demoted with a real `REPLICAOF`
 * (as a failover does to the old primary). Claims must answer 503 + Retry-After — never 500 —
 * and `/readyz` must fail (a PING-only probe stayed green), then both recover once it is a
 * primary again.
 */
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ClaimKeys } from "../../pkg/claims/index.js";
import { runGateway } from "../../pkg/gateway/index.js";
import { startPrivateRedis, uniquePool, waitFor, type PrivateRedis } from "../harness/index.js";
import { registerWarm, startReadyResponder } from "../claims/stand-in.js";

const TOKEN = "failover-token-0123456789abcdef";
let primary: PrivateRedis;
let other: PrivateRedis;
let admin: Redis;
beforeAll(async () => {
  [primary, other] = await Promise.all([startPrivateRedis(), startPrivateRedis()]);
  admin = new Redis(primary.url);
});
afterAll(async () => {
  admin?.disconnect();
  await Promise.all([primary?.stop(), other?.stop()]);
});

async function claim(
  url: string,
  userId: string,
): Promise<{ status: number; body: string; retryAfter: string | null }> {
  const r = await fetch(`${url}/v1/claims`, {
    method: "POST",
    headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
    body: JSON.stringify({ userId }),
  });
  return { status: r.status, body: await r.text(), retryAfter: r.headers.get("retry-after") };
}

describe("gateway across a Redis role change (real REPLICAOF)", () => {
  it("a demoted primary: 503 + Retry-After for claims and heartbeats, /readyz 503; back to normal after promotion", async () => {
    const pool = uniquePool("fo");
    const keys = new ClaimKeys(pool);
    const gw = await runGateway({
      pool,
      redisUrl: primary.url,
      host: "127.0.0.1",
      port: 0,
      tokens: TOKEN,
      defaultLeaseSeconds: 60,
      defaultWaitMs: 0,
      maxWaitMs: 60_000,
      readyTimeoutMs: 10_000,
      retryAfterSeconds: 2,
    });
    let responder = await startReadyResponder(admin, new Redis(primary.url), pool);
    try {
      await registerWarm(admin, pool, 2);
      const first = await claim(gw.url, "before");
      expect(first.status).toBe(201);
      const claimId = (JSON.parse(first.body) as { claimId: string }).claimId;
      expect((await fetch(`${gw.url}/readyz`)).status).toBe(200);

      // The stand-in bridge's blocked XREAD would be cut by the role change (UNBLOCKED).
      await responder.stop();
      await admin.call("REPLICAOF", "127.0.0.1", String(other.port));
      expect(((await admin.call("ROLE")) as unknown[])[0]).toBe("slave");

      const statuses: number[] = [];
      for (let i = 0; i < 5; i++) {
        const r = await claim(gw.url, `during-${i}`);
        statuses.push(r.status);
        expect(r.body).toMatch(/redis unavailable/);
        expect(r.retryAfter).toBe("1");
      }
      expect(statuses).toEqual([503, 503, 503, 503, 503]);
      const hb = await fetch(`${gw.url}/v1/claims/${claimId}/heartbeat`, {
        method: "POST",
        headers: { authorization: `Bearer ${TOKEN}` },
      });
      expect(hb.status).toBe(503);
      expect(hb.headers.get("retry-after")).toBe("1");
      await waitFor(
        "readyz fails on a replica",
        async () => (await fetch(`${gw.url}/readyz`)).status === 503,
      );
      const ready = (await (await fetch(`${gw.url}/readyz`)).json()) as { detail: string };
      expect(ready.detail).toMatch(/read-only replica/);

      await admin.call("REPLICAOF", "NO", "ONE");
      await waitFor("readyz after promotion", async () => (await fetch(`${gw.url}/readyz`)).status === 200);
      // The replica took the other server's (empty) data set: the pool starts over.
      responder = await startReadyResponder(admin, new Redis(primary.url), pool);
      await registerWarm(admin, pool, 1);
      const after = await claim(gw.url, "after");
      expect(after.status).toBe(201);
      expect(
        await admin.hget(keys.claim((JSON.parse(after.body) as { claimId: string }).claimId), "state"),
      ).toBe("ready");
    } finally {
      await responder.stop();
      await gw.close();
      await admin.call("REPLICAOF", "NO", "ONE").catch(() => undefined);
    }
  });

  it("/readyz probes share a cached ROLE answer: 50 probes cost one or two ROLE calls", async () => {
    const own = await startPrivateRedis();
    const c = new Redis(own.url);
    const gw = await runGateway({
      pool: uniquePool("rz"),
      redisUrl: own.url,
      host: "127.0.0.1",
      port: 0,
      tokens: TOKEN,
      defaultLeaseSeconds: 60,
      defaultWaitMs: 0,
      maxWaitMs: 60_000,
      readyTimeoutMs: 10_000,
      retryAfterSeconds: 2,
    });
    try {
      await c.config("RESETSTAT");
      const t0 = Date.now();
      const codes = await Promise.all(
        Array.from({ length: 50 }, async () => (await fetch(`${gw.url}/readyz`)).status),
      );
      const elapsed = Date.now() - t0;
      expect(codes.every((x) => x === 200)).toBe(true);
      const stats = (await c.info("commandstats")).match(/cmdstat_role:calls=(\d+)/);
      const roles = Number(stats?.[1] ?? 0);
      expect(roles).toBeGreaterThanOrEqual(1);
      // One per started second at most (the cache lives 1 s).
      expect(roles).toBeLessThanOrEqual(1 + Math.ceil(elapsed / 1000));
    } finally {
      await gw.close();
      c.disconnect();
      await own.stop();
    }
  });
});
