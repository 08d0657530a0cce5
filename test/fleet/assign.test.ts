import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { assignPools, poolsOf } from "../../pkg/fleet/index.js";

describe("assignPools", () => {
  const table: { description: string; pools: string[]; replicas: string[]; counts: number[] }[] = [
    { description: "no replica serves nothing", pools: ["a", "b"], replicas: [], counts: [] },
    { description: "one replica serves every pool", pools: ["a", "b", "c"], replicas: ["r1"], counts: [3] },
    {
      description: "30 pools over 3 replicas: exactly 10 each",
      pools: names(30),
      replicas: ["r1", "r2", "r3"],
      counts: [10, 10, 10],
    },
    {
      description: "31 pools over 3: at most 11",
      pools: names(31),
      replicas: ["r1", "r2", "r3"],
      counts: [10, 10, 11],
    },
    {
      description: "more replicas than pools: one pool each at most",
      pools: ["a", "b"],
      replicas: ["r1", "r2", "r3"],
      counts: [0, 1, 1],
    },
  ];
  for (const t of table) {
    it(t.description, () => {
      const a = assignPools(t.pools, t.replicas);
      const counts = t.replicas.map((r) => poolsOf(a, r).length).sort((x, y) => x - y);
      expect(counts).toEqual(t.counts);
    });
  }

  it("every pool to exactly one live replica, none above its fair share, whatever the input order", () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.stringMatching(/^[a-z][a-z0-9-]{0,8}$/), { maxLength: 60 }),
        fc.uniqueArray(fc.stringMatching(/^[a-z0-9:]{1,12}$/), { minLength: 1, maxLength: 7 }),
        (pools, replicas) => {
          const a = assignPools(pools, replicas);
          expect([...a.keys()].sort()).toEqual([...pools].sort());
          const cap = Math.ceil(pools.length / replicas.length);
          for (const r of replicas) expect(poolsOf(a, r).length).toBeLessThanOrEqual(cap);
          for (const r of a.values()) expect(replicas).toContain(r);
          // Every replica computes the same answer from the same view, in any order.
          expect(assignPools([...pools].reverse(), [...replicas].reverse())).toEqual(a);
        },
      ),
    );
  });

  it("a replica leaving moves its own pools and only a few others", () => {
    const pools = names(60);
    const before = assignPools(pools, ["r1", "r2", "r3", "r4"]);
    const after = assignPools(pools, ["r1", "r2", "r3"]);
    const moved = pools.filter((p) => before.get(p) !== after.get(p));
    const ownOfGone = poolsOf(before, "r4").length;
    expect(moved.length).toBeGreaterThanOrEqual(ownOfGone);
    // Not a reshuffle: most of the pools the survivors served stay where they were.
    expect(moved.length - ownOfGone).toBeLessThanOrEqual(pools.length / 4);
  });
});

function names(n: number): string[] {
  return Array.from({ length: n }, (_, i) => `pool-${String(i).padStart(2, "0")}`);
}
