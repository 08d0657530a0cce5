/**
 * Property test over the real scripts: random interleavings of register, claim, cordon, release,
 * heartbeat, expiry and forget on a handful of tasks. After every step, read from Redis:
 *  - every member of `warm` has a `warm` record;
 *  - a task that was ever claimed is never `warm` again (nor in the warm set);
 *  - no claim is held by two tasks, and no task serves two claims over its life;
 *  - `claims` (live leases) holds only assigned/ready claims.
 */
import fc from "fast-check";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { randomUUID } from "node:crypto";
import { ClaimKeys, ClaimService, PoolStore, TaskChannel } from "../../pkg/claims/index.js";
import { runClaimScript } from "../../pkg/claims/claim-script.js";
import { startPrivateRedis, uniquePool, type PrivateRedis } from "../harness/index.js";

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

const TASKS = ["t0", "t1", "t2", "t3"];
type Op =
  | { op: "register"; task: number }
  | { op: "claim"; user: number }
  | { op: "take"; user: number }
  | { op: "cordon"; task: number }
  | { op: "release"; pick: number }
  | { op: "heartbeat"; pick: number }
  | { op: "expire" }
  | { op: "forget"; task: number }
  | { op: "ready"; task: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ op: fc.constant("register" as const), task: fc.nat(3) }),
  fc.record({ op: fc.constant("claim" as const), user: fc.nat(5) }),
  fc.record({ op: fc.constant("take" as const), user: fc.nat(5) }),
  fc.record({ op: fc.constant("cordon" as const), task: fc.nat(3) }),
  fc.record({ op: fc.constant("release" as const), pick: fc.nat(20) }),
  fc.record({ op: fc.constant("heartbeat" as const), pick: fc.nat(20) }),
  fc.record({ op: fc.constant("expire" as const) }),
  fc.record({ op: fc.constant("forget" as const), task: fc.nat(3) }),
  fc.record({ op: fc.constant("ready" as const), task: fc.nat(3) }),
);

describe("claim protocol invariants (fast-check over real Lua)", () => {
  it("holds under random interleavings, sequential and concurrent", async () => {
    let claimedSeen = 0; // coverage: the runs did reach claimed tasks
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.array(opArb, { minLength: 1, maxLength: 3 }), { minLength: 5, maxLength: 30 }),
        async (steps) => {
          const pool = uniquePool("inv");
          const keys = new ClaimKeys(pool);
          const store = new PoolStore(redis, pool);
          // readyTimeoutMs 0: a library claim gives up (atomically) unless already ready; "take" ops
          // leave claims assigned or queued for the other ops to race with.
          const svc = new ClaimService({ pool, redis, readyTimeoutMs: 0, limits: { minLeaseSeconds: 1 } });
          await svc.start();
          const everClaimed = new Set<string>();
          const servedBy = new Map<string, string>(); // task → the claim it served
          const claimIds: string[] = [];
          const retired = new Set<string>();
          const run = async (o: Op): Promise<void> => {
            switch (o.op) {
              case "register":
                // ECS task ids are never reused: a forgotten task does not come back.
                if (retired.has(TASKS[o.task]!)) return;
                await new TaskChannel(redis, pool, TASKS[o.task]!).register({
                  taskArn: "a",
                  endpoint: "h:1",
                  token: "x",
                });
                return;
              case "take": {
                // The claim script alone: the claim stays assigned (or queued) until other ops act.
                const id = randomUUID();
                claimIds.push(id);
                await runClaimScript(redis, keys, {
                  claimId: id,
                  userId: `u${o.user}`,
                  leaseMs: 1000,
                  waitMs: o.user % 2 ? 0 : 60_000,
                  perUser: 0,
                  perClient: 0,
                  maxWaiting: 0,
                });
                return;
              }
              case "claim": {
                const r = await svc.claim({
                  userId: `u${o.user}`,
                  waitMs: o.user % 2 ? 0 : 1,
                  leaseSeconds: 1,
                });
                if ("claimId" in r) claimIds.push(r.claimId);
                return;
              }
              case "cordon":
                await store.cordon(TASKS[o.task]!, "excess");
                return;
              case "release":
                if (claimIds.length) await svc.release(claimIds[o.pick % claimIds.length]!);
                return;
              case "heartbeat":
                if (claimIds.length) await svc.heartbeat(claimIds[o.pick % claimIds.length]!);
                return;
              case "expire":
                await store.expireLeases();
                return;
              case "forget":
                retired.add(TASKS[o.task]!);
                await store.forget(TASKS[o.task]!);
                return;
              case "ready": {
                const claimId = await redis.hget(keys.task(TASKS[o.task]!), "claimId");
                if (claimId) await new TaskChannel(redis, pool, TASKS[o.task]!).reportReady(claimId);
                return;
              }
            }
          };
          try {
            for (const step of steps) {
              await Promise.all(step.map(run));
              for (const t of TASKS) {
                const [state, claimId] = await redis.hmget(keys.task(t), "state", "claimId");
                if (state === "claimed") {
                  everClaimed.add(t);
                  claimedSeen++;
                }
                if (claimId) {
                  const before = servedBy.get(t);
                  // forget deletes the record; a new record for the same id is a new task life.
                  if (before && before !== claimId && state !== null) {
                    expect.fail(`${t} served ${before} and then ${claimId}`);
                  }
                  servedBy.set(t, claimId);
                }
                if (state === null) servedBy.delete(t);
                if (state === null) everClaimed.delete(t);
                if (everClaimed.has(t)) {
                  expect(state).not.toBe("warm");
                  expect(await redis.zscore(keys.warm, t)).toBeNull();
                }
              }
              for (const t of await redis.zrange(keys.warm, 0, -1)) {
                expect(await redis.hget(keys.task(t), "state")).toBe("warm");
              }
              const holders = new Map<string, string>();
              for (const t of TASKS) {
                const [state, claimId] = await redis.hmget(keys.task(t), "state", "claimId");
                if (state === "claimed" && claimId) {
                  expect(holders.get(claimId), `claim ${claimId} on two tasks`).toBeUndefined();
                  holders.set(claimId, t);
                }
              }
              for (const c of await redis.zrange(keys.claims, 0, -1)) {
                expect(["assigned", "ready"]).toContain(await redis.hget(keys.claim(c), "state"));
              }
            }
          } finally {
            await svc.close();
            const left = await redis.keys(`${keys.prefix}*`);
            if (left.length) await redis.del(...left);
          }
        },
      ),
      { numRuns: 60 },
    );
    expect(claimedSeen).toBeGreaterThan(20);
  });
});
