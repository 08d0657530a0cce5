/** Translates Redis task hashes into the planner's TaskRecord (pkg/plan/types.ts). */
import type { PoolTaskState, TaskRecord } from "../plan/index.js";

const STATES: readonly PoolTaskState[] = ["starting", "warm", "claimed", "draining"];

function num(v: string | undefined): number | undefined {
  if (v === undefined || v === "") return undefined;
  const n = Number(v);
  return Number.isFinite(n) ? n : undefined;
}

export function isPoolTaskState(s: string | undefined): s is PoolTaskState {
  return STATES.includes(s as PoolTaskState);
}

/**
 * The planner's record of a task hash, or undefined when its state is none the pool knows (a
 * newer release's state, a hand edit, a corrupted write). Such a record is left out of the
 * planner's view entirely — neither claimable nor stoppable: reporting it as `draining`, as this
 * once did, made the reconciler stop it without a cordon, though it might be serving a user. With
 * the record still in Redis, the reconciler's orphan path refuses to stop its task (mark-orphan-3
 * finds a record), so the task is held until someone looks (`PoolStore.observe().unrecognized`).
 */
export function toTaskRecord(taskId: string, h: Record<string, string>): TaskRecord | undefined {
  if (!isPoolTaskState(h.state)) return undefined;
  const rec: TaskRecord = { taskId, state: h.state, createdAtMs: num(h.createdAt) ?? num(h.warmAt) ?? 0 };
  if (h.taskArn) rec.taskArn = h.taskArn;
  if (h.revision) rec.revision = h.revision;
  const warmAt = num(h.warmAt);
  if (warmAt !== undefined) rec.warmAtMs = warmAt;
  if (h.claimId) rec.claimId = h.claimId;
  const lease = num(h.leaseExpiresAt);
  if (lease !== undefined) rec.leaseExpiresAtMs = lease;
  if (h.drainReason) rec.drainReason = h.drainReason;
  return rec;
}

/** A task hash whose state the pool does not know; its `state` as found ("" when absent). */
export interface UnrecognizedRecord {
  taskId: string;
  state: string;
}

/** Parses the reply of snapshot-3+.lua; records in an unknown state are listed apart, not planned. */
export function parseSnapshot(reply: unknown): {
  waiting: number;
  nowMs: number;
  records: TaskRecord[];
  unrecognized: UnrecognizedRecord[];
} {
  const arr = reply as [number, number, ...[string, string[]][]];
  const records: TaskRecord[] = [];
  const unrecognized: UnrecognizedRecord[] = [];
  for (let i = 2; i < arr.length; i++) {
    const [taskId, flat] = arr[i] as [string, string[]];
    const h: Record<string, string> = {};
    for (let j = 0; j + 1 < flat.length; j += 2) h[flat[j] as string] = flat[j + 1] as string;
    const rec = toTaskRecord(taskId, h);
    if (rec) records.push(rec);
    else unrecognized.push({ taskId, state: h.state ?? "" });
  }
  return { waiting: Number(arr[0]), nowMs: Number(arr[1]), records, unrecognized };
}
