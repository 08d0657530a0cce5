/** Translates Redis task hashes into the planner's TaskRecord (pkg/plan/types.ts). */
import type { PoolTaskState, TaskRecord } from "../plan/index.js";

const STATES: readonly PoolTaskState[] = ["starting", "warm", "claimed", "draining"];

function num(v: string | undefined): number | undefined {
  if (v === undefined || v === "") return undefined;
  const n = Number(v);
  return Number.isFinite(n) ? n : undefined;
}

/** A hash with an unknown state is reported as `draining`: it must never look claimable. */
export function toTaskRecord(taskId: string, h: Record<string, string>): TaskRecord {
  const state = STATES.includes(h.state as PoolTaskState) ? (h.state as PoolTaskState) : "draining";
  const rec: TaskRecord = { taskId, state, createdAtMs: num(h.createdAt) ?? num(h.warmAt) ?? 0 };
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

/** Parses the reply of snapshot-3.lua. */
export function parseSnapshot(reply: unknown): { waiting: number; nowMs: number; records: TaskRecord[] } {
  const arr = reply as [number, number, ...[string, string[]][]];
  const records: TaskRecord[] = [];
  for (let i = 2; i < arr.length; i++) {
    const [taskId, flat] = arr[i] as [string, string[]];
    const h: Record<string, string> = {};
    for (let j = 0; j + 1 < flat.length; j += 2) h[flat[j] as string] = flat[j + 1] as string;
    records.push(toTaskRecord(taskId, h));
  }
  return { waiting: Number(arr[0]), nowMs: Number(arr[1]), records };
}
