/**
 * A gateway serving every pool of the registry under its least-privilege Redis user: the gateway
 * role rendered for the pool pattern `*` (docs/redis-acl.md) reaches each registered pool's keys
 * and reads `wp:pools`. The same role rendered for one pool cannot claim in another: Redis itself
 * refuses (NOPERM), the gateway answers no 201, and the other pool's keys are unchanged.
 */
import { Redis } from "ioredis";
import { afterEach, describe, expect, it } from "vitest";
import { ClaimKeys } from "../../pkg/claims/index.js";
import { runGateway } from "../../pkg/gateway/index.js";
import { PoolRegistry } from "../../pkg/pools/index.js";
import { startPrivateRedis, uniquePool } from "../harness/index.js";
import { registerWarm, startReadyResponder } from "../claims/stand-in.js";

const TOKEN = "pools-acl-token-0123456789abcdef";
const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

async function world(
  aclPool: (pools: string[]) => string,
): Promise<{ url: string; pools: string[]; admin: Redis }> {
  const pools = [uniquePool("acla"), uniquePool("aclb")];
  const server = await startPrivateRedis({ acl: { pool: aclPool(pools) } });
  cleanup.push(() => server.stop());
  const admin = new Redis(server.url);
  cleanup.push(async () => void admin.disconnect());
  const registry = new PoolRegistry(admin);
  for (const p of pools) {
    expect(await registry.create(p, { who: "test" })).toBe("created");
    await registerWarm(admin, p, 2, p);
    const r = await startReadyResponder(admin, new Redis(server.url), p);
    cleanup.push(() => r.stop());
  }
  const gw = await runGateway({
    redisUrl: server.urlFor("gateway"),
    host: "127.0.0.1",
    port: 0,
    tokens: TOKEN,
    defaultLeaseSeconds: 60,
    defaultWaitMs: 0,
    maxWaitMs: 60_000,
    readyTimeoutMs: 10_000,
    retryAfterSeconds: 3,
  });
  cleanup.push(() => gw.close());
  return { url: gw.url, pools, admin };
}

const claim = (url: string, pool: string): Promise<Response> =>
  fetch(`${url}/v1/pools/${pool}/claims`, {
    method: "POST",
    headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
    body: JSON.stringify({ userId: "alice" }),
  });

describe("gateway ACL user for many pools", () => {
  it("rendered for `*`: claims in every registered pool", async () => {
    const w = await world(() => "*");
    for (const p of w.pools) {
      const res = await claim(w.url, p);
      expect(res.status).toBe(201);
      const body = (await res.json()) as { claimId: string };
      expect(await w.admin.hget(new ClaimKeys(p).claim(body.claimId), "state")).toBe("ready");
    }
  });

  it("rendered for one pool: a claim in another pool is refused by Redis and changes nothing", async () => {
    const w = await world((pools) => pools[0]!);
    const [a, b] = w.pools as [string, string];
    expect((await claim(w.url, a)).status).toBe(201);
    const kb = new ClaimKeys(b);
    const before = await w.admin.zrange(kb.warm, 0, -1);
    const res = await claim(w.url, b);
    await res.text();
    expect(res.status).not.toBe(201);
    expect(await w.admin.zrange(kb.warm, 0, -1)).toEqual(before);
    expect(await w.admin.zcard(kb.claims)).toBe(0);
  });
});
