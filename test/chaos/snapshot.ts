/**
 * Everything a pool holds in Redis that a bad input must not change: task and claim records, the
 * warm set, leases, the waiting queue, idempotency keys, the desired state. Left out are what the
 * reconciler rewrites on its own every pass (leader lease, epoch, status) and the append-only
 * streams (events, config history), where bad input may be recorded.
 */
import type { Redis } from "ioredis";
import type { PoolKeys } from "../../pkg/keys/index.js";

export async function poolSnapshot(redis: Redis, keys: PoolKeys): Promise<Record<string, unknown>> {
  const skip = new Set([keys.events, keys.leader, keys.epoch, keys.status, keys.configHistory]);
  const out: Record<string, unknown> = {};
  let cursor = "0";
  const names: string[] = [];
  do {
    const [next, found] = await redis.scan(cursor, "MATCH", `${keys.prefix}*`, "COUNT", 1000);
    cursor = next;
    names.push(...found.filter((k) => !skip.has(k)));
  } while (cursor !== "0");
  for (const k of names.sort()) {
    const type = await redis.type(k);
    if (type === "string") out[k] = await redis.get(k);
    else if (type === "hash") out[k] = await redis.hgetall(k);
    else if (type === "zset") out[k] = await redis.zrange(k, 0, -1, "WITHSCORES");
    else if (type === "set") out[k] = (await redis.smembers(k)).sort();
    else if (type === "list") out[k] = await redis.lrange(k, 0, -1);
    else out[k] = type;
  }
  return out;
}
