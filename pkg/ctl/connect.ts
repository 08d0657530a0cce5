/**
 * How ctl reaches Redis: a redis:// or rediss:// URL checked before dialling, a short connect
 * timeout, and one clear message naming the (password-redacted) URL and the flag to fix when
 * the server cannot be reached. Commands never queue behind a dead connection.
 */
import type { Redis } from "ioredis";
import {
  checkRedisUrl as checkUrl,
  createRedis,
  isTransientRedisError,
  redactUrl,
  redisErrorCode,
} from "../redis/index.js";
import { CtlError, EXIT } from "./errors.js";

export interface ConnectOptions {
  /** Connect (and first PING) must finish within this. */
  timeoutMs?: number;
  /** Keep reconnecting after a drop (status --watch); one-shot commands fail fast instead. */
  reconnect?: boolean;
}

export const DEFAULT_CONNECT_TIMEOUT_MS = 3_000;

/** Checks the URL's shape (pkg/redis's rules, either form); throws a CtlError naming the flag and the rule. */
export function checkRedisUrl(url: string): URL {
  try {
    return checkUrl(url, "--redis-url");
  } catch (e) {
    throw new CtlError((e as Error).message);
  }
}

/** Connects and PINGs, or throws a CtlError with EXIT.unreachable that says where and why. */
export async function connectRedis(url: string, opts: ConnectOptions = {}): Promise<Redis> {
  checkRedisUrl(url);
  const timeoutMs = opts.timeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  // One-shot: one dial, no reconnect; --watch: the long-running policy (READONLY re-dials).
  const redis = createRedis(url, {
    use: opts.reconnect ? "commands" : "one-shot",
    lazyConnect: true,
    connectTimeoutMs: timeoutMs,
    commandTimeoutMs: Math.max(timeoutMs, 2_000),
    offlineQueue: opts.reconnect === true,
  });
  let lastError: unknown;
  redis.on("error", (e) => (lastError = e));
  const timer = new Promise<never>((_, reject) => {
    const t = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    t.unref();
  });
  try {
    await Promise.race([redis.connect().then(() => redis.ping()), timer]);
    return redis;
  } catch (e) {
    redis.disconnect();
    const why = describe(lastError ?? e);
    throw new CtlError(
      `cannot reach Redis at ${redactUrl(url)}: ${why} (set --redis-url or WARMPOOL_REDIS_URL)`,
      EXIT.unreachable,
      { cause: e },
    );
  }
}

/**
 * An error from a command on an established connection, as ctl reports it: a server that is read-only
 * or failing over (READONLY, UNBLOCKED, LOADING, MASTERDOWN) exits EXIT.failover — nothing was
 * written, retry in a few seconds; a refused permission (NOPERM) names the ACL user to use.
 */
export function redisFailure(url: string, e: unknown): CtlError {
  const where = redactUrl(url);
  const code = redisErrorCode(e);
  if (code && FAILOVER_CODES.has(code)) {
    return new CtlError(
      `Redis at ${where} is read-only or failing over (${describe(e)}): nothing was written; retry in a few seconds`,
      EXIT.failover,
      { cause: e },
    );
  }
  if (code === "NOPERM" || /can't (access|run)/.test(describe(e))) {
    return new CtlError(
      `Redis at ${where} refused: ${describe(e)} (the URL's ACL user may not do this; ctl uses the warmpool-ctl user, docs/redis-acl.md)`,
      EXIT.refused,
      { cause: e },
    );
  }
  return new CtlError(`Redis at ${where} failed: ${describe(e)}`, EXIT.unreachable, { cause: e });
}

const FAILOVER_CODES = new Set(["READONLY", "UNBLOCKED", "LOADING", "MASTERDOWN", "TRYAGAIN"]);

/** Errors that mean "Redis could not do it", as opposed to ctl's own refusals. */
export function isRedisFailure(e: unknown): boolean {
  const code = redisErrorCode(e);
  return isTransientRedisError(e) || code === "NOPERM" || (code !== undefined && FAILOVER_CODES.has(code));
}

function describe(e: unknown): string {
  if (e instanceof AggregateError && e.errors.length > 0) return describe(e.errors[0]);
  if (e instanceof Error) return (e as { code?: string }).code ? `${e.message}` : e.message;
  return String(e);
}
