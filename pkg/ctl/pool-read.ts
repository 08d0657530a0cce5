/**
 * Read-only views of the pool's Redis side for on-call: every task record with all its fields
 * (the planner's TaskRecord drops the user and endpoint that on-call wants to see) and every
 * live claim, queued ones included. Reads are pipelined, never scripted: ctl changes nothing here.
 */
import type { Redis } from "ioredis";
import type { PoolKeys } from "../keys/index.js";
import type { PoolTaskState } from "../plan/index.js";

export interface TaskRow {
  taskId: string;
  state: PoolTaskState | string;
  revision?: string;
  taskArn?: string;
  createdAtMs?: number;
  warmAtMs?: number;
  claimId?: string;
  userId?: string;
  claimedAtMs?: number;
  endpoint?: string;
  drainReason?: string;
}

export interface ClaimRow {
  claimId: string;
  state: string;
  userId?: string;
  taskId?: string;
  createdAtMs?: number;
  /** Absolute lease expiry (Redis TIME ms) for held claims. */
  leaseExpiresAtMs?: number;
  /** 1-based place in the queue for waiting claims. */
  queuePosition?: number;
}

export async function readTasks(redis: Redis, keys: PoolKeys): Promise<TaskRow[]> {
  const ids = await redis.smembers(keys.tasks);
  if (ids.length === 0) return [];
  const p = redis.pipeline();
  for (const id of ids) p.hgetall(keys.task(id));
  const res = (await p.exec()) ?? [];
  const rows: TaskRow[] = [];
  ids.forEach((taskId, i) => {
    const [err, h] = res[i] ?? [];
    if (err || !h || Object.keys(h as object).length === 0) return;
    rows.push(toTaskRow(taskId, h as Record<string, string>));
  });
  const order = ["starting", "warm", "claimed", "draining"];
  return rows.sort(
    (a, b) =>
      rank(order, a.state) - rank(order, b.state) ||
      (a.createdAtMs ?? 0) - (b.createdAtMs ?? 0) ||
      a.taskId.localeCompare(b.taskId),
  );
}

export async function readClaims(redis: Redis, keys: PoolKeys): Promise<ClaimRow[]> {
  const [held, queued] = await Promise.all([
    redis.zrange(keys.claims, 0, -1, "WITHSCORES"),
    redis.lrange(keys.waiting, 0, -1),
  ]);
  const lease = new Map<string, number>();
  for (let i = 0; i + 1 < held.length; i += 2) lease.set(held[i]!, Number(held[i + 1]));
  const ids = [...new Set([...queued, ...lease.keys()])];
  if (ids.length === 0) return [];
  const p = redis.pipeline();
  for (const id of ids) p.hmget(keys.claim(id), "state", "userId", "taskId", "createdAt");
  const res = (await p.exec()) ?? [];
  return ids.map((claimId, i) => {
    const [state, userId, taskId, createdAt] = ((res[i]?.[1] as (string | null)[]) ?? []).map(
      (v) => v ?? undefined,
    );
    const row: ClaimRow = { claimId, state: state ?? "unknown" };
    if (userId) row.userId = userId;
    if (taskId) row.taskId = taskId;
    const c = num(createdAt);
    if (c !== undefined) row.createdAtMs = c;
    const l = lease.get(claimId);
    if (l !== undefined && state !== "waiting") row.leaseExpiresAtMs = l;
    const q = queued.indexOf(claimId);
    if (q >= 0) row.queuePosition = q + 1;
    return row;
  });
}

function toTaskRow(taskId: string, h: Record<string, string>): TaskRow {
  const row: TaskRow = { taskId, state: h.state ?? "unknown" };
  const str = ["revision", "taskArn", "claimId", "userId", "endpoint", "drainReason"] as const;
  for (const k of str) if (h[k]) row[k] = h[k];
  const created = num(h.createdAt);
  if (created !== undefined) row.createdAtMs = created;
  const warm = num(h.warmAt);
  if (warm !== undefined) row.warmAtMs = warm;
  const claimed = num(h.claimedAt);
  if (claimed !== undefined) row.claimedAtMs = claimed;
  return row;
}

function num(v: string | undefined | null): number | undefined {
  if (v === undefined || v === null || v === "") return undefined;
  const n = Number(v);
  return Number.isFinite(n) ? n : undefined;
}

function rank(order: string[], s: string): number {
  const i = order.indexOf(s);
  return i < 0 ? order.length : i;
}
