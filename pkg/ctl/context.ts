/**
 * What every ctl command works with: one Redis connection, the pool's keys, the desired-state
 * store, where to write, and who is acting (for the audit trail in `config:history`).
 */
import { hostname, userInfo } from "node:os";
import type { Redis } from "ioredis";
import { ConfigStore } from "../config/index.js";
import { PoolKeys } from "../keys/index.js";
import type { CtlIO, OutputFormat } from "./io.js";

export interface CtlContext {
  redis: Redis;
  pool: string;
  keys: PoolKeys;
  config: ConfigStore;
  io: CtlIO;
  output: OutputFormat;
  /** `user@host` of the operator, recorded as `who` in the history. */
  who: string;
}

export function createContext(o: {
  redis: Redis;
  pool: string;
  io: CtlIO;
  output?: OutputFormat;
  who?: string;
}): CtlContext {
  const keys = new PoolKeys(o.pool);
  return {
    redis: o.redis,
    pool: o.pool,
    keys,
    config: new ConfigStore(o.redis, keys),
    io: o.io,
    output: o.output ?? "text",
    who: o.who ?? operator(o.io.env),
  };
}

/** The OS user and host running ctl: `alice@ops-laptop` (SUDO_USER wins: the person behind sudo). */
export function operator(env: NodeJS.ProcessEnv = process.env): string {
  let user = env.SUDO_USER;
  if (!user) {
    try {
      user = userInfo().username;
    } catch {
      user = env.USER ?? env.LOGNAME ?? "unknown";
    }
  }
  return `${user}@${hostname()}`;
}

/** Redis TIME in ms: the clock every script and record of the pool uses. */
export async function redisNowMs(redis: Redis): Promise<number> {
  const [s, us] = await redis.time();
  return Number(s) * 1000 + Math.floor(Number(us) / 1000);
}
