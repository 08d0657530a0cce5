/**
 * How every process opens its Redis connections: one factory per use, with the reconnect policy a
 * failover needs. A demoted primary answers writes with READONLY and cuts blocked commands with
 * UNBLOCKED; both mean "this server is no longer the primary", so the connection is dropped and
 * re-dialled (through the stable address — a cloud endpoint, a proxy that follows Sentinel — it
 * reaches the new primary). A write refused with READONLY was not executed, so it is resent on the
 * new connection; anything that still fails reaches the caller as a transient error
 * (`isTransientRedisError`) to be retried with backoff or answered with 503.
 */
import { Redis, type RedisOptions } from "ioredis";
import { redisErrorCode } from "./errors.js";
import { redactUrl } from "./redact.js";

/** What the connection is for. */
export type RedisUse =
  /** Ordinary commands of a long-running process: fail fast while disconnected, never give up dialling. */
  | "commands"
  /** BLPOP / XREAD BLOCK: a connection of its own, no command timeout, never gives up. */
  | "blocking"
  /** SUBSCRIBE: ioredis resubscribes after every reconnect. */
  | "subscriber"
  /** A one-shot CLI: one dial, no reconnect. */
  | "one-shot";

export interface RedisConnectOptions {
  use?: RedisUse;
  /** Per-command timeout for "commands" and "one-shot" (ms). */
  commandTimeoutMs?: number;
  connectTimeoutMs?: number;
  /** Dial without connecting (the caller calls connect()). */
  lazyConnect?: boolean;
  /** Queue commands while reconnecting instead of failing them at once. */
  offlineQueue?: boolean;
}

/**
 * Backoff between reconnects: the first at once (a role change or a dropped connection usually has
 * a new primary behind the address already), then 50 ms doubling to 2 s, ±20 % jitter so a fleet
 * does not dial in step.
 */
export function reconnectDelayMs(attempt: number, random: () => number = Math.random): number {
  if (attempt <= 1) return 0;
  const base = Math.min(2_000, 50 * 2 ** Math.min(attempt - 2, 6));
  return Math.round(base * (0.8 + 0.4 * random()));
}

/**
 * ioredis `reconnectOnError`: 2 = reconnect and resend the failed command (READONLY: not executed,
 * safe to resend), 1 = reconnect and hand the error to the caller (UNBLOCKED: the blocked read is
 * cut; its owner loops), false = keep the connection.
 */
export function reconnectOnRoleChange(err: Error): boolean | 1 | 2 {
  const code = redisErrorCode(err);
  if (code === "READONLY") return 2;
  if (code === "UNBLOCKED" || code === "MASTERDOWN") return 1;
  return false;
}

/** Role-change re-dials at most this often: a server that stays a replica is not dialled in a loop. */
export const ROLE_CHANGE_REDIAL_MS = 1_000;

/**
 * `reconnectOnRoleChange`, throttled: after a re-dial, errors within ROLE_CHANGE_REDIAL_MS reach
 * the caller as they are (transient: retried, or answered 503) instead of re-dialling again, so a
 * URL that points at a replica for good costs one dial a second, and its callers see READONLY.
 */
export function throttledRoleChange(
  now: () => number = () => performance.now(),
): (err: Error) => boolean | 1 | 2 {
  let last = -Infinity;
  return (err) => {
    const r = reconnectOnRoleChange(err);
    if (r === false || now() - last < ROLE_CHANGE_REDIAL_MS) return false;
    last = now();
    return r;
  };
}

/** The ioredis options for one use (exported for processes that build their own connection). */
export function redisOptions(o: RedisConnectOptions = {}): RedisOptions {
  const use = o.use ?? "commands";
  const oneShot = use === "one-shot";
  return {
    // No connectionName: with the ready check off, ioredis sends CLIENT SETNAME on connect, and a
    // connection closed during it stays "ready" but unwritable for good (every command then fails
    // with "Stream isn't writeable"), which a failover behind a proxy does (test/redis/reconnect).
    lazyConnect: o.lazyConnect ?? false,
    connectTimeout: o.connectTimeoutMs ?? 5_000,
    // The ready check runs INFO, which no role is granted (it tells server internals); LOADING is a
    // transient error every caller already retries.
    enableReadyCheck: false,
    disableClientInfo: true,
    ...(use === "blocking" || use === "subscriber"
      ? { maxRetriesPerRequest: null, enableOfflineQueue: true }
      : {
          commandTimeout: o.commandTimeoutMs ?? 5_000,
          maxRetriesPerRequest: oneShot ? 0 : 1,
          enableOfflineQueue: o.offlineQueue ?? false,
        }),
    retryStrategy: oneShot ? () => null : (n: number) => reconnectDelayMs(n),
    reconnectOnError: oneShot ? () => false : throttledRoleChange(),
  };
}

/** A connection for `use`; the URL may carry an ACL user (`redis://user:password@host`). */
export function createRedis(url: string, o: RedisConnectOptions = {}): Redis {
  checkRedisUrl(url);
  return new Redis(url, redisOptions(o));
}

/** Checks a Redis URL's shape; the message names the rule and never the password. */
export function checkRedisUrl(url: string, field = "redis URL"): URL {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new Error(
      `${field}: not a URL (${JSON.stringify(redactUrl(url))}); expected redis://[user:password@]host[:port][/db] or rediss:// for TLS`,
    );
  }
  if (u.protocol !== "redis:" && u.protocol !== "rediss:") {
    throw new Error(
      `${field}: scheme must be redis:// or rediss:// (TLS), got ${JSON.stringify(u.protocol.replace(/:$/, ""))}`,
    );
  }
  if (u.hostname === "") throw new Error(`${field}: names no host (redis://host:port)`);
  return u;
}

/** The URL with an ACL user and password set (both URL-encoded). */
export function withCredentials(url: string, user: string, password: string): string {
  const u = new URL(url);
  u.username = encodeURIComponent(user);
  u.password = encodeURIComponent(password);
  return u.toString();
}
