import { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { ClaimService } from "../../pkg/claims/index.js";
import { ConfigStore } from "../../pkg/config/index.js";
import { PoolKeys, REGISTRY_KEY } from "../../pkg/keys/index.js";
import { PoolRegistry } from "../../pkg/pools/index.js";
import { startPrivateRedis, uniquePool, type PrivateRedis } from "../harness/index.js";
import { registerWarm, startReadyResponder, type ReadyResponder } from "../claims/stand-in.js";
import { ctl, dumpPool } from "./env.js";

/** `ctl pool create | list | delete` against a real Redis; the registry is read back from Redis. */
let server: PrivateRedis;
let redis: Redis;
let pool: string;
let keys: PoolKeys;
let responder: ReadyResponder | undefined;
let claims: ClaimService | undefined;
const run = (...args: string[]) => ctl(["ctl", ...args, "--redis-url", server.url, "--pool", pool]);

beforeAll(async () => {
  server = await startPrivateRedis();
  redis = new Redis(server.url);
});
afterAll(async () => {
  redis?.disconnect();
  await server?.stop();
});
beforeEach(async () => {
  pool = uniquePool("reg");
  keys = new PoolKeys(pool);
});
afterEach(async () => {
  await claims?.close();
  await responder?.stop();
  claims = undefined;
  responder = undefined;
});

describe("ctl pool", () => {
  it("create registers the pool with its labels; list shows it; a second create is refused", async () => {
    const r = await run("pool", "create", "--label", "tier=gpu", "--label", "region=eu");
    expect(r.code, r.err).toBe(0);
    const entry = JSON.parse((await redis.hget(REGISTRY_KEY, pool))!) as Record<string, unknown>;
    expect(entry).toMatchObject({ state: "active", labels: { tier: "gpu", region: "eu" } });

    const list = await ctl(["ctl", "pool", "list", "--redis-url", server.url]);
    expect(list.code).toBe(0);
    expect(list.out).toMatch(new RegExp(`${pool}\\s+active\\s+(tier=gpu,region=eu|region=eu,tier=gpu)`));
    const asJson = JSON.parse(
      (await ctl(["ctl", "pool", "list", "-o", "json", "--redis-url", server.url])).out,
    ) as {
      name: string;
    }[];
    expect(asJson.map((p) => p.name)).toContain(pool);

    const again = await run("pool", "create");
    expect(again.code).toBe(1);
    expect(again.err).toContain(`pool ${pool} is already registered`);
  });

  it("a bad label is refused, naming the label and the rule, and nothing is registered", async () => {
    const r = await run("pool", "create", "--label", "Tier=gpu", "--label", "novalue");
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/"Tier": a label key must match/);
    expect(r.err).toMatch(/"novalue": expected key=value/);
    expect(await redis.hexists(REGISTRY_KEY, pool)).toBe(0);
  });

  it("delete of an unregistered pool is refused and changes nothing", async () => {
    const r = await run("pool", "delete");
    expect(r.code).toBe(1);
    expect(r.err).toContain("is not registered");
  });

  it("delete is refused while claims are live; --force drains to zero and removes once no task is left", async () => {
    expect((await run("pool", "create")).code).toBe(0);
    responder = await startReadyResponder(redis, redis.duplicate(), pool);
    claims = new ClaimService({ pool, redis });
    await claims.start();
    await registerWarm(redis, pool, 3);
    const c = await claims.claim({ userId: "alice", waitMs: 5_000 });
    expect(c.outcome).toBe("ready");

    const before = await dumpPool(redis, keys);
    const refused = await run("pool", "delete");
    expect(refused.code).toBe(1);
    expect(refused.err).toMatch(/1 live and 0 queued claim\(s\); refused \(nothing changed\)/);
    expect(await dumpPool(redis, keys)).toEqual(before);
    await expect(new PoolRegistry(redis).get(pool)).resolves.toMatchObject({ state: "active" });

    const forced = await run("pool", "delete", "--force", "--yes", "--reason", "retire");
    expect(forced.code, forced.err).toBe(0);
    expect(forced.out).toMatch(/is draining: 3 task record\(s\), 1 live claim\(s\) left/);
    const read = await new ConfigStore(redis, keys).read();
    expect(read.state).toBe("valid");
    if (read.state === "valid")
      expect(read.value).toMatchObject({ minWarm: 0, maxWarm: 0, replenishThreshold: 0 });
    const history = await new ConfigStore(redis, keys).history(1);
    expect(history[0]).toMatchObject({ result: "accepted", why: "retire" });
    expect(await new PoolRegistry(redis).get(pool)).toMatchObject({ state: "deleting" });

    // The claim ends and the reconciler stops and forgets every task: then delete removes the pool.
    if (c.outcome === "ready") await claims.release(c.claim.claimId);
    for (const id of await redis.smembers(keys.tasks))
      await redis.multi().del(keys.task(id)).srem(keys.tasks, id).exec();
    await redis.del(keys.claims);
    const done = await run("pool", "delete");
    expect(done.code, done.err).toBe(0);
    expect(done.out).toContain(`pool ${pool} removed`);
    expect(await redis.hexists(REGISTRY_KEY, pool)).toBe(0);
    // The zeroed desired state stays: a reconciler still pointed at the name starts nothing.
    const after = await new ConfigStore(redis, keys).read();
    expect(after.state === "valid" && after.value.maxWarm).toBe(0);
  });

  it("delete of an empty pool removes it at once", async () => {
    expect((await run("pool", "create")).code).toBe(0);
    const r = await run("pool", "delete", "--yes");
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain("removed");
    expect(await redis.hexists(REGISTRY_KEY, pool)).toBe(0);
  });
});
