import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PoolKeys } from "../../pkg/keys/index.js";
import { LeaderLease, LeaseLostError } from "../../pkg/leader/index.js";
import { startPrivateRedis, uniquePool, waitFor, type PrivateRedis } from "../harness/index.js";

describe("leader lease (real redis-server)", () => {
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

  it("one holder at a time; each new term gets a higher fencing epoch", async () => {
    const keys = new PoolKeys(uniquePool());
    const a = new LeaderLease({ redis, keys, ttlMs: 1_000, holderId: "a" });
    const b = new LeaderLease({ redis, keys, ttlMs: 1_000, holderId: "b" });
    await a.tryAcquire();
    const wait = await b.tryAcquire();
    expect(a.held).toBe(true);
    expect(b.held).toBe(false);
    expect(a.epoch).toBe(1);
    expect(wait).toBeGreaterThan(0);
    expect(wait).toBeLessThanOrEqual(1_000);
    expect(await redis.get(keys.leader)).toBe("a");
    // Renewing keeps the term (same epoch).
    await a.tryAcquire();
    expect(a.epoch).toBe(1);
    await a.release();
    expect(await redis.get(keys.leader)).toBeNull();
    await b.tryAcquire();
    expect(b.held).toBe(true);
    expect(b.epoch).toBe(2);
    expect(() => a.assertHeld()).toThrow(LeaseLostError);
    await b.release();
  });

  it("a dead holder's lease expires and the standby takes over within the TTL", async () => {
    const keys = new PoolKeys(uniquePool());
    const ttlMs = 1_500;
    const dead = new LeaderLease({ redis, keys, ttlMs, holderId: "dead" });
    await dead.tryAcquire(); // then never renews: as if killed
    const killedAt = Date.now();
    const standby = new LeaderLease({ redis, keys, ttlMs, holderId: "standby" });
    standby.start();
    await waitFor("standby to take over", () => standby.held, 10_000, 5);
    const took = Date.now() - killedAt;
    expect(took).toBeLessThan(ttlMs + 500); // generous margin for a busy 2-core machine
    expect(took).toBeGreaterThanOrEqual(ttlMs - 50);
    expect(standby.epoch).toBe(2);
    // The old holder's own validity ran out before the standby could take over.
    expect(dead.held).toBe(false);
    // And its renew is refused: compare-and-renew on holder + epoch.
    expect(await dead.renew()).toBe(false);
    await standby.stop();
    expect(await redis.get(keys.leader)).toBeNull();
  });

  it("a holder whose lease was taken over learns it at the next renew and aborts its signal", async () => {
    const keys = new PoolKeys(uniquePool());
    const a = new LeaderLease({ redis, keys, ttlMs: 5_000, holderId: "a" });
    await a.tryAcquire();
    const signal = a.signal;
    expect(signal.aborted).toBe(false);
    // Someone else holds the key now (an operator deleted it and another process won).
    await redis.set(keys.leader, "intruder", "PX", 5_000);
    expect(await a.renew()).toBe(false);
    expect(signal.aborted).toBe(true);
    expect(a.held).toBe(false);
    // Release does not delete a lease that is not ours.
    await a.release();
    expect(await redis.get(keys.leader)).toBe("intruder");
  });

  it("refuses a TTL too short to renew", () => {
    expect(() => new LeaderLease({ redis, keys: new PoolKeys(uniquePool()), ttlMs: 10 })).toThrow(/ttl/);
  });
});
