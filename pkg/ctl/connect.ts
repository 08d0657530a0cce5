/**
 * How ctl reaches Redis: a redis:// or rediss:// URL checked before dialling, a short connect
 * timeout, and one clear message naming the (password-redacted) URL and the flag to fix when
 * the server cannot be reached. Commands never queue behind a dead connection.
 */
import { redactUrl } from "../redis/index.js";
import { Redis } from "ioredis";
import { CtlError, EXIT } from "./errors.js";

export interface ConnectOptions {
  /** Connect (and first PING) must finish within this. */
  timeoutMs?: number;
  /** Keep reconnecting after a drop (status --watch); one-shot commands fail fast instead. */
  reconnect?: boolean;
}

export const DEFAULT_CONNECT_TIMEOUT_MS = 3_000;

/** Checks the URL's shape; throws a CtlError naming the field and the rule. */
export function checkRedisUrl(url: string): URL {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new CtlError(
      `--redis-url: not a URL (${JSON.stringify(redactUrl(url))}); expected redis://[:password@]host[:port][/db] or rediss:// for TLS`,
    );
  }
  if (u.protocol !== "redis:" && u.protocol !== "rediss:") {
    throw new CtlError(
      `--redis-url: scheme must be redis:// or rediss:// (TLS), got ${JSON.stringify(u.protocol.replace(/:$/, ""))}`,
    );
  }
  if (u.hostname === "") throw new CtlError("--redis-url: names no host (redis://host:port)");
  return u;
}

/** Connects and PINGs, or throws a CtlError with EXIT.unreachable that says where and why. */
export async function connectRedis(url: string, opts: ConnectOptions = {}): Promise<Redis> {
  checkRedisUrl(url);
  const timeoutMs = opts.timeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  const redis = new Redis(url, {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    commandTimeout: Math.max(timeoutMs, 2_000),
    maxRetriesPerRequest: opts.reconnect ? 1 : 0,
    enableOfflineQueue: opts.reconnect === true,
    retryStrategy: opts.reconnect ? (n) => Math.min(200 * n, 2_000) : () => null,
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

/** An error from a command on an established connection, as ctl reports it. */
export function redisFailure(url: string, e: unknown): CtlError {
  return new CtlError(`Redis at ${redactUrl(url)} failed: ${describe(e)}`, EXIT.unreachable, { cause: e });
}

function describe(e: unknown): string {
  if (e instanceof AggregateError && e.errors.length > 0) return describe(e.errors[0]);
  if (e instanceof Error) return (e as { code?: string }).code ? `${e.message}` : e.message;
  return String(e);
}
