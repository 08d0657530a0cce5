/**
 * "A release of another claim is ignored", at the scripts: a task's bridge can end, ready or fail
 * only the claim its own task holds. Another task's bridge naming that claim (a stale inbox message
 * after a failover, a confused or hostile bridge) changes nothing: every key of the pool is dumped
 * before and after and compared. The bridge's own side (a release message naming another claim
 * during a session) is test/bridge/session-protocol.test.ts.
 */
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ClaimKeys, ClaimService, TaskChannel } from "../../pkg/claims/index.js";
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

async function dump(keys: ClaimKeys): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for (const k of (await redis.keys(`${keys.prefix}*`)).sort()) {
    const type = await redis.type(k);
    if (type === "hash") out[k] = await redis.hgetall(k);
    else if (type === "zset") out[k] = await redis.zrange(k, 0, -1, "WITHSCORES");
    else if (type === "set") out[k] = (await redis.smembers(k)).sort();
    else if (type === "list") out[k] = await redis.lrange(k, 0, -1);
    else if (type === "stream") out[k] = await redis.xrange(k, "-", "+");
    else out[k] = await redis.get(k);
  }
  return out;
}

describe("a claim is ended only by its own task's bridge (real Redis)", () => {
  it("another task's endSession, ready and failed reports for alice's claim change nothing; her own task's end it", async () => {
    const pool = uniquePool("frel");
    const keys = new ClaimKeys(pool);
    const ids = await registerWarm(redis, pool, 2);
    const svc = new ClaimService({ pool, redis, readyTimeoutMs: 10_000 });
    await svc.start();
    try {
      const pending = svc.claim({ userId: "alice", waitMs: 5_000 });
      // Alice's claim takes one warm task (the oldest); the other one stays warm.
      const { a, b, claimId } = await (async () => {
        for (let i = 0; i < 500; i++) {
          for (const [x, y] of [ids, [...ids].reverse()]) {
            const id = await redis.hget(keys.task(x!), "claimId");
            if (id) return { a: x!, b: y!, claimId: id };
          }
          await new Promise((r) => setTimeout(r, 20));
        }
        throw new Error("alice's claim took no task");
      })();
      const own = new TaskChannel(redis, pool, a);
      const other = new TaskChannel(redis, pool, b);
      expect((await own.reportReady(claimId)).outcome).toBe("ready");
      expect((await pending).outcome).toBe("ready");
      await redis.del(keys.inbox(a)); // the init_user a real bridge would have popped

      const before = await dump(keys);
      await other.endSession(claimId, "agent-exited");
      expect(await other.reportFailed(claimId, "not mine")).toEqual({ outcome: "not-this-task" });
      expect(await other.reportReady(claimId)).toEqual({ outcome: "not-this-task" });
      expect(await dump(keys)).toEqual(before);
      expect(await redis.hget(keys.claim(claimId), "state")).toBe("ready");
      expect(await redis.hget(keys.task(b), "state")).toBe("warm");

      // The task that holds the claim ends it: the path the refusal guards is a real one.
      await own.endSession(claimId, "agent-exited");
      expect(await redis.hget(keys.claim(claimId), "state")).toBe("ended");
      expect(await redis.hgetall(keys.task(a))).toMatchObject({
        state: "draining",
        drainReason: "agent-exited",
      });
      const inbox = (await redis.lrange(keys.inbox(a), 0, -1)).map((m) => JSON.parse(m) as unknown);
      expect(inbox).toEqual([{ type: "release", claimId, reason: "agent-exited" }]);
      expect(await redis.lrange(keys.inbox(b), 0, -1)).toEqual([]);
    } finally {
      await svc.close();
    }
  });
});
