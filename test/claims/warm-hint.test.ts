/**
 * The claim script declares the warm task it takes (claim-8+, for Redis Cluster), so a process
 * keeps a hint of warm tasks to declare. Two processes claiming from one pool (two gateway
 * replicas) take tasks from each other's hints; a task found gone must leave the hint for good,
 * or every later claim of that process declares it again and pays a second round trip. Counted
 * from Redis itself (INFO commandstats), not from the client.
 */
import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ClaimKeys } from "../../pkg/claims/index.js";
import { runClaimScript, WarmHint } from "../../pkg/claims/claim-script.js";
import { startPrivateRedis, uniquePool, type PrivateRedis } from "../harness/index.js";
import { registerWarm } from "./stand-in.js";

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

async function scriptCalls(): Promise<number> {
  const stats = await redis.info("commandstats");
  let n = 0;
  for (const m of stats.matchAll(/^cmdstat_(?:eval|evalsha):calls=(\d+)/gm)) n += Number(m[1]);
  return n;
}

describe("warm hints of two processes claiming from one pool", () => {
  it("each claim takes one script call (plus a refill now and then), and no task twice", async () => {
    const pool = uniquePool("hint");
    const keys = new ClaimKeys(pool);
    await registerWarm(redis, pool, 1_000);
    const hints = [new WarmHint(), new WarmHint()];
    const claims = 600;
    const before = await scriptCalls();
    const taken: string[] = [];
    for (let i = 0; i < claims; i++) {
      const r = await runClaimScript(
        redis,
        keys,
        {
          claimId: randomUUID(),
          userId: "u",
          leaseMs: 60_000,
          waitMs: 0,
          perUser: 0,
          perClient: 0,
          maxWaiting: 0,
        },
        hints[i % 2],
      );
      expect(r[0]).toBe(1);
      taken.push(String(r[2]));
    }
    const calls = (await scriptCalls()) - before;
    // Ground truth: every claim took a distinct task, and Redis holds each as claimed.
    expect(new Set(taken).size).toBe(claims);
    expect(await redis.zcard(keys.warm)).toBe(1_000 - claims);
    // With stale tasks going back to the hint, this was ~1.9 calls per claim.
    expect(calls).toBeLessThanOrEqual(claims * 1.15);
  });
});
