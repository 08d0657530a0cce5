import type { Redis } from "ioredis";
import type { PoolKeys } from "../../pkg/keys/index.js";

/** The pool's task records in Redis, counted by state (`none` for an id without a record). */
export async function recordStates(redis: Redis, keys: PoolKeys): Promise<Record<string, number>> {
  const ids = await redis.smembers(keys.tasks);
  const states = await Promise.all(ids.map((id) => redis.hget(keys.task(id), "state")));
  const out: Record<string, number> = {};
  for (const s of states) out[s ?? "none"] = (out[s ?? "none"] ?? 0) + 1;
  return out;
}
