/**
 * The on-call drain request kept in the pool's `drain` key: "treat the warm and starting tasks
 * created before `beforeMs` (of `revision`, when given) as old: replace them surge-first, leave
 * claimed ones to finish". It is level state, like desired state: the reconciler reads it every
 * pass, and it is harmless once every matching idle task is gone.
 */
import type { Redis } from "ioredis";
import type { PoolKeys } from "../keys/index.js";
import { revisionMatches } from "./revision.js";
import type { TaskRow } from "./pool-read.js";

export interface DrainRequest {
  /** Task definition the request is about (family, family:revision or ARN); every revision when absent. */
  revision?: string;
  /** Redis TIME (ms) of the request: tasks created at or after it are new, never drained. */
  beforeMs: number;
  by: string;
  reason: string;
}

export async function readDrainRequest(redis: Redis, keys: PoolKeys): Promise<DrainRequest | null> {
  const raw = await redis.get(keys.drain);
  if (raw === null) return null;
  try {
    const v = JSON.parse(raw) as Partial<DrainRequest>;
    if (typeof v.beforeMs !== "number") return null;
    const r: DrainRequest = {
      beforeMs: v.beforeMs,
      by: String(v.by ?? "unknown"),
      reason: String(v.reason ?? ""),
    };
    if (typeof v.revision === "string") r.revision = v.revision;
    return r;
  } catch {
    return null;
  }
}

/** The task falls under the request: created before it and (when named) of its revision. */
export function drainMatches(req: Pick<DrainRequest, "revision" | "beforeMs">, t: TaskRow): boolean {
  const created = t.createdAtMs ?? t.warmAtMs;
  if (created === undefined || created >= req.beforeMs) return false;
  return req.revision === undefined || revisionMatches(req.revision, t.revision);
}

/** Idle tasks (warm, starting) the request still has to replace, and claimed ones it leaves alone. */
export function drainProgress(
  req: Pick<DrainRequest, "revision" | "beforeMs">,
  tasks: TaskRow[],
): { idle: number; claimed: number } {
  let idle = 0;
  let claimed = 0;
  for (const t of tasks) {
    if (!drainMatches(req, t)) continue;
    if (t.state === "warm" || t.state === "starting") idle++;
    else if (t.state === "claimed") claimed++;
  }
  return { idle, claimed };
}
