/**
 * `GET /v1/pool` in O(1) Redis work, whatever the pool's size. The live figures come from the
 * structures the claim scripts keep anyway: `warm` (zset of idle warm tasks, oldest first),
 * `claims` (zset of the leases of claims holding a task: one per claimed task) and `waiting`
 * (list). `starting` and `draining` exist only as record states, which only a full scan could
 * count, so they come from the reconciler's last pass (the `status` key) with its time; null when
 * no reconciler has published one. Earlier this ran the O(N) snapshot script on every call
 * (10,000 records ≈ 45 ms of Redis blocked per call).
 */
import type { Redis } from "ioredis";
import type { ClaimKeys } from "./claim-keys.js";

export interface PoolSummary {
  pool: string;
  tasks: { starting: number | null; warm: number; claimed: number; draining: number | null };
  waiting: number;
  /** Age of the oldest idle warm task, ms (0 when none). */
  oldestWarmAgeMs: number;
  /** When the reconciler counted `starting` and `draining` (ISO 8601), null when it never did. */
  countedAt: string | null;
}

/** One MULTI: ZCARD, ZCARD, LLEN, ZRANGE 0 0, TIME, GET status — each O(1) or O(log N). */
export async function readSummary(redis: Redis, keys: ClaimKeys): Promise<PoolSummary> {
  const replies = await redis
    .multi()
    .zcard(keys.warm)
    .zcard(keys.claims)
    .llen(keys.waiting)
    .zrange(keys.warm, 0, 0, "WITHSCORES")
    .time()
    .get(keys.status)
    .exec();
  if (!replies) throw new Error("reading the pool summary: the transaction was discarded");
  const failed = replies.find(([err]) => err);
  if (failed?.[0]) throw new Error("reading the pool summary", { cause: failed[0] });
  const [warm, claimed, waiting, oldest, time, status] = replies.map(([, v]) => v) as [
    number,
    number,
    number,
    string[],
    [string, string],
    string | null,
  ];
  const nowMs = Number(time[0]) * 1000 + Math.floor(Number(time[1]) / 1000);
  const oldestWarmAt = oldest[1] === undefined ? nowMs : Number(oldest[1]);
  const counted = reconcilerCounts(status);
  return {
    pool: keys.pool,
    tasks: { starting: counted?.starting ?? null, warm, claimed, draining: counted?.draining ?? null },
    waiting,
    oldestWarmAgeMs: Math.max(0, nowMs - oldestWarmAt),
    countedAt: counted ? new Date(counted.atMs).toISOString() : null,
  };
}

function reconcilerCounts(
  raw: string | null,
): { starting: number; draining: number; atMs: number } | undefined {
  if (!raw) return undefined;
  try {
    const s = JSON.parse(raw) as {
      updatedAtMs?: unknown;
      counts?: { starting?: unknown; draining?: unknown } | null;
    };
    const c = s.counts;
    if (!c || typeof c.starting !== "number" || typeof c.draining !== "number") return undefined;
    if (typeof s.updatedAtMs !== "number" || s.updatedAtMs <= 0) return undefined;
    return { starting: c.starting, draining: c.draining, atMs: s.updatedAtMs };
  } catch {
    return undefined;
  }
}
