/**
 * Many clients against a pool kept refilled, with cordons racing the claims: 200 concurrent
 * clients make 4,000 claims. The answers are then checked against Redis, the ground truth: no
 * task served two claims, no claimed task warm again, every claim served or cleanly timed out.
 */
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ClaimKeys, ClaimService, PoolStore } from "../../pkg/claims/index.js";
import type { ClaimResult } from "../../pkg/claims/types.js";
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

const CLIENTS = 200;
const PER_CLIENT = 20;

describe("claims under load with refills and cordons", { timeout: 300_000 }, () => {
  it("200 clients × 20 claims: every claim served once or timed out, counted from Redis", async () => {
    const pool = uniquePool("load");
    const keys = new ClaimKeys(pool);
    const store = new PoolStore(redis, pool);
    const svc = new ClaimService({ pool, redis, readyTimeoutMs: 30_000 });
    await svc.start();
    const responder = await startReadyResponder(redis, new Redis(server.url), pool);
    let running = true;
    const cordonedIds: string[] = [];
    // Stand-in reconciler: keep ~60 warm plus one per waiter; cordon the oldest warm ones meanwhile.
    const refill = (async () => {
      while (running) {
        const [warm, waiting] = await Promise.all([redis.zcard(keys.warm), redis.llen(keys.waiting)]);
        const need = 60 + waiting - warm;
        if (need > 0) await registerWarm(redis, pool, Math.min(need, 100), "r");
        await new Promise((r) => setTimeout(r, 5));
      }
    })();
    const chaos = (async () => {
      while (running) {
        // The oldest warm tasks: exactly the ones the claims pop next.
        const victims = await redis.zrange(keys.warm, 0, 2);
        const won = await Promise.all(victims.map((v) => store.cordon(v, "excess")));
        cordonedIds.push(...victims.filter((_, i) => won[i]));
        await new Promise((r) => setTimeout(r, 10));
      }
    })();

    const results: ClaimResult[] = [];
    await Promise.all(
      Array.from({ length: CLIENTS }, async (_, c) => {
        for (let i = 0; i < PER_CLIENT; i++) {
          const r = await svc.claim({ userId: `u${c}`, waitMs: 10_000 });
          results.push(r);
          if (r.outcome === "ready" && i % 2 === 0) await svc.release(r.claim.claimId);
        }
      }),
    );
    running = false;
    await Promise.all([refill, chaos]);
    await responder.stop();
    await svc.close();

    expect(results).toHaveLength(CLIENTS * PER_CLIENT);
    const outcomes = new Map<string, number>();
    for (const r of results) outcomes.set(r.outcome, (outcomes.get(r.outcome) ?? 0) + 1);
    expect([...outcomes.keys()].every((o) => o === "ready" || o === "timeout")).toBe(true);
    const ready = results.flatMap((r) => (r.outcome === "ready" ? [r.claim] : []));
    expect(ready.length).toBeGreaterThan(CLIENTS * PER_CLIENT * 0.9);

    // Ground truth from Redis.
    const taskIds = await redis.smembers(keys.tasks);
    const holderOf = new Map<string, string>();
    for (const t of taskIds) {
      const [state, claimId] = await redis.hmget(keys.task(t), "state", "claimId");
      if (claimId) {
        expect(holderOf.get(claimId), `claim ${claimId} on two tasks`).toBeUndefined();
        holderOf.set(claimId, t);
        expect(state).not.toBe("warm");
      }
    }
    expect(new Set(ready.map((c) => c.taskId)).size).toBe(ready.length);
    for (const c of ready) expect(holderOf.get(c.claimId)).toBe(c.taskId);
    // A task holding a claim that no answer reported served must hold a claim that did not finish.
    const answered = new Set(ready.map((c) => c.claimId));
    for (const claimId of holderOf.keys()) {
      if (!answered.has(claimId))
        expect(await redis.hget(keys.claim(claimId), "state")).toMatch(/^(timeout|failed)$/);
    }
    for (const t of await redis.zrange(keys.warm, 0, -1)) {
      expect(await redis.hget(keys.task(t), "state")).toBe("warm");
    }
    expect(await redis.llen(keys.waiting)).toBe(0);
    // Whatever cordons won (how many depends on scheduling; the deterministic race is in
    // claims.test.ts), a task that lost to a cordon never served anyone.
    for (const t of cordonedIds) {
      expect(await redis.hmget(keys.task(t), "state", "claimId", "drainReason")).toEqual([
        "draining",
        null,
        "excess",
      ]);
    }
    const timedOut = outcomes.get("timeout") ?? 0;
    console.log(`load: ${ready.length} served, ${timedOut} timed out, ${cordonedIds.length} cordoned`);
  });
});
