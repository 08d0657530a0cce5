/**
 * Which reconciler replica serves which pool: a pure function of the pool names and the live
 * replica ids, so every replica computes the same answer from the same view. Rendezvous (highest
 * random weight) hashing picks each pool's preferred replica, held to fair shares (⌊pools / replicas⌋,
 * and one more for pools mod replicas of them); a replica joining or leaving moves few pools. Views
 * that briefly differ can make two replicas want one pool: the pool's lease decides, and its
 * epoch fences the loser, so a disagreement costs a little latency and never safety.
 */
export function assignPools(pools: readonly string[], replicas: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  const live = [...new Set(replicas)].sort();
  if (live.length === 0) return out;
  const names = [...new Set(pools)].sort();
  // Fair shares: every replica gets ⌊P/R⌋ pools, and P mod R of them one more.
  const floor = Math.floor(names.length / live.length);
  let extra = names.length % live.length;
  const load = new Map(live.map((r) => [r, 0]));
  const ranked = names.map((pool) => ({
    pool,
    order: live
      .map((r) => ({ r, w: weight(pool, r) }))
      .sort((a, b) => b.w - a.w || (a.r < b.r ? -1 : 1))
      .map((x) => x.r),
  }));
  for (const { pool, order } of ranked) {
    const pick = order.find((r) => load.get(r)! < floor || (load.get(r) === floor && extra > 0))!;
    if (load.get(pick) === floor) extra--;
    load.set(pick, load.get(pick)! + 1);
    out.set(pool, pick);
  }
  return out;
}

/** The pools `replica` serves under `assignPools`. */
export function poolsOf(assignment: ReadonlyMap<string, string>, replica: string): string[] {
  return [...assignment].filter(([, r]) => r === replica).map(([p]) => p);
}

/** FNV-1a (32 bit) of `pool \0 replica`, mixed: a stable pseudo-random weight. */
function weight(pool: string, replica: string): number {
  let h = 0x811c9dc5;
  const s = `${pool}\0${replica}`;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  return h >>> 0;
}
