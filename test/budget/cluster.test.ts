import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startPrivateCluster, type PrivateCluster } from "../../hack/redis/private-cluster.js";
import { SharedBudget } from "../../pkg/budget/index.js";
import { PoolRegistry } from "../../pkg/pools/index.js";

/**
 * The control-plane keys on a real 3-master Redis Cluster: the budget's script declares both its
 * keys (one hash tag, one slot), and the registry is a single key, so both run in cluster mode.
 */
describe("budget and registry on a Redis Cluster", () => {
  let cluster: PrivateCluster;
  beforeAll(async () => {
    cluster = await startPrivateCluster(3);
  }, 60_000);
  afterAll(async () => {
    await cluster?.stop();
  });

  it("budgets of different accounts live on different slots and each holds its limit", async () => {
    const c = cluster.client() as unknown as Redis;
    const slots = new Set<number>();
    for (const acct of ["a1", "a2", "a3", "a4", "a5", "a6"]) {
      const b = new SharedBudget(c, { account: acct, region: "r", api: "ecs-read", ratePerSec: 1, burst: 4 });
      const got = [];
      for (let i = 0; i < 4; i++) got.push((await b.tryTake("p")).ok);
      // A lone pool gets half the burst at once (the rest is kept for a newcomer).
      expect(got).toEqual([true, true, false, false]);
      slots.add((await c.call("CLUSTER", "KEYSLOT", b.keys.tat)) as number);
      expect(await c.call("CLUSTER", "KEYSLOT", b.keys.active)).toBe(
        await c.call("CLUSTER", "KEYSLOT", b.keys.tat),
      );
    }
    expect(slots.size).toBeGreaterThan(1);
  });

  it("the registry works through a cluster client", async () => {
    const reg = new PoolRegistry(cluster.client() as unknown as Redis);
    expect(await reg.create("cl-a", { labels: { tier: "gpu" }, who: "test" })).toBe("created");
    expect(await reg.create("cl-b", { who: "test" })).toBe("created");
    expect((await reg.select({ selector: { tier: "gpu" } })).map((e) => e.name)).toEqual(["cl-a"]);
    expect(await reg.markDeleting("cl-b", "test")).toMatchObject({ state: "deleting" });
  });
});
