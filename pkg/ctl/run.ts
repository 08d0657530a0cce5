/**
 * The frame around every ctl command: check the flags that locate the pool, connect with a short
 * timeout, run, map every failure to a one-line message and an exit code (docs/ctl.md), close.
 */
import { assertPoolName } from "../keys/index.js";
import { connectRedis, DEFAULT_CONNECT_TIMEOUT_MS, isRedisFailure, redisFailure } from "./connect.js";
import { createContext, type CtlContext } from "./context.js";
import { CtlError, EXIT, type ExitCode } from "./errors.js";
import type { CtlIO, OutputFormat } from "./io.js";

export interface GlobalFlags {
  redisUrl: string;
  pool?: string;
  output: OutputFormat;
  /** Seconds to wait for Redis. */
  connectTimeout?: number;
}

export interface RunOptions {
  /** Keep reconnecting after a drop (status --watch). */
  reconnect?: boolean;
}

/** Runs `fn` with a connected context; returns the exit code (never throws). */
export async function runWithPool(
  io: CtlIO,
  flags: GlobalFlags,
  fn: (ctx: CtlContext) => Promise<ExitCode>,
  opts: RunOptions = {},
): Promise<ExitCode> {
  let redis: Awaited<ReturnType<typeof connectRedis>> | undefined;
  try {
    const pool = checkPool(flags.pool);
    const timeoutMs =
      flags.connectTimeout !== undefined ? flags.connectTimeout * 1000 : DEFAULT_CONNECT_TIMEOUT_MS;
    if (!(timeoutMs > 0))
      throw new CtlError(
        `--connect-timeout: must be a positive number of seconds (got ${flags.connectTimeout})`,
      );
    redis = await connectRedis(flags.redisUrl, { timeoutMs, reconnect: opts.reconnect === true });
    const conn = redis;
    conn.on("error", () => undefined);
    const ctx = createContext({ redis: conn, pool, io, output: flags.output });
    try {
      return await fn(ctx);
    } catch (e) {
      if (e instanceof CtlError) throw e;
      if (isConnectionError(e) || isRedisFailure(e)) throw redisFailure(flags.redisUrl, e);
      throw e;
    }
  } catch (e) {
    return report(io, e);
  } finally {
    redis?.disconnect();
  }
}

/** Runs `fn` with a connection but no pool (`ctl pool list`, `ctl status` over every pool); returns the exit code (never throws). */
export async function runWithRedis(
  io: CtlIO,
  flags: GlobalFlags,
  fn: (ctx: Pick<CtlContext, "redis" | "io" | "output">) => Promise<ExitCode>,
  opts: RunOptions = {},
): Promise<ExitCode> {
  let redis: Awaited<ReturnType<typeof connectRedis>> | undefined;
  try {
    const timeoutMs =
      flags.connectTimeout !== undefined ? flags.connectTimeout * 1000 : DEFAULT_CONNECT_TIMEOUT_MS;
    if (!(timeoutMs > 0))
      throw new CtlError(
        `--connect-timeout: must be a positive number of seconds (got ${flags.connectTimeout})`,
      );
    redis = await connectRedis(flags.redisUrl, { timeoutMs, reconnect: opts.reconnect === true });
    const conn = redis;
    conn.on("error", () => undefined);
    try {
      return await fn({ redis: conn, io, output: flags.output });
    } catch (e) {
      if (e instanceof CtlError) throw e;
      if (isConnectionError(e) || isRedisFailure(e)) throw redisFailure(flags.redisUrl, e);
      throw e;
    }
  } catch (e) {
    return report(io, e);
  } finally {
    redis?.disconnect();
  }
}

/** For commands that need no Redis (config validate). */
export async function runLocal(io: CtlIO, fn: () => Promise<ExitCode>): Promise<ExitCode> {
  try {
    return await fn();
  } catch (e) {
    return report(io, e);
  }
}

function report(io: CtlIO, e: unknown): ExitCode {
  if (e instanceof CtlError) {
    io.err(`warmpool ctl: ${e.message}\n`);
    return e.exitCode;
  }
  io.err(`warmpool ctl: ${e instanceof Error ? e.message : String(e)}\n`);
  return EXIT.refused;
}

function checkPool(pool: string | undefined): string {
  if (pool === undefined || pool === "") {
    throw new CtlError("--pool: required (or set WARMPOOL_POOL): the pool to operate on", EXIT.usage);
  }
  try {
    assertPoolName(pool);
  } catch (e) {
    throw new CtlError(`--pool: ${e instanceof Error ? e.message : String(e)}`, EXIT.usage);
  }
  return pool;
}

function isConnectionError(e: unknown): boolean {
  if (!(e instanceof Error)) return false;
  return (
    e.name === "MaxRetriesPerRequestError" ||
    /Connection is closed|Command timed out|ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|Stream isn't writeable/i.test(
      e.message,
    )
  );
}
