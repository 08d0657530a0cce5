/**
 * When a pool's next full relist falls due. Pools whose leases were taken together (a replica
 * starting, a takeover of a dead replica's pools) all relist at once on taking them; with a fixed
 * interval they would go on relisting together, a wave of ListTasks + DescribeTasks every
 * `--relist-interval` against the account's read budget. So each pool relists at its own phase:
 * the first relist after the one on taking the lease comes after relistMs × (0.5 + phase), phase
 * in [0, 1) a hash of the pool's name (deterministic: a pool keeps its phase across restarts and
 * replicas), and every relist is jittered by ±RELIST_JITTER at random so phases that happen to
 * be close drift apart. On average a pool still relists once per interval.
 */
import { createHash } from "node:crypto";

/** ± this fraction of the interval, at random, on every relist's delay. */
export const RELIST_JITTER = 0.1;

/**
 * The pool's phase in [0, 1): the first 32 bits of SHA-256 of its name (names that differ in one
 * character, `pool-01` and `pool-02`, land far apart).
 */
export function relistPhase(pool: string): number {
  return createHash("sha256").update(pool).digest().readUInt32BE(0) / 2 ** 32;
}

/**
 * Delay (ms) from the end of a relist to the next one. `afterTakeover`: the relist that just
 * ended was the one on taking the lease (the pools of one takeover end theirs together).
 */
export function nextRelistDelayMs(
  relistMs: number,
  pool: string,
  afterTakeover: boolean,
  random: () => number = Math.random,
): number {
  const base = afterTakeover ? 0.5 + relistPhase(pool) : 1;
  const jitter = (2 * random() - 1) * RELIST_JITTER;
  return Math.max(1, Math.round(relistMs * (base + jitter)));
}
