import type { Redis } from "ioredis";

/**
 * True when this connection reaches a primary that accepts writes: ROLE says `master`. A demoted
 * primary (REPLICAOF) answers reads but refuses writes with READONLY, so a readiness probe that
 * only PINGs would stay green while every claim fails.
 */
export async function isWritablePrimary(redis: Redis): Promise<boolean> {
  const role = (await redis.call("ROLE")) as unknown[];
  return Array.isArray(role) && role[0] === "master";
}
