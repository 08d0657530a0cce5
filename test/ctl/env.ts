/**
 * Runs `warmpool ctl …` in-process through the real yargs parser (cmd/ctl.ts) with captured
 * stdout/stderr and exit code, and dumps a pool's keys so a test can prove a refused command
 * wrote nothing.
 */
import type { Redis } from "ioredis";
import yargs from "yargs";
import { makeCtlCommand } from "../../cmd/ctl.js";
import type { CtlIO } from "../../pkg/ctl/index.js";
import type { PoolKeys } from "../../pkg/keys/index.js";

export interface CtlRun {
  code: number;
  out: string;
  err: string;
}

export interface CtlCallOptions {
  env?: Record<string, string>;
  /** Answers the terminal confirmation (makes the run look interactive). */
  confirm?: (q: string) => Promise<boolean>;
  stdin?: string;
  signal?: AbortSignal;
  tty?: boolean;
}

class UsageError extends Error {}

export async function ctl(argv: string[], o: CtlCallOptions = {}): Promise<CtlRun> {
  let out = "";
  let err = "";
  let code: number | undefined;
  const env = { ...process.env, ...o.env };
  const io: CtlIO = {
    out: (t) => void (out += t),
    err: (t) => void (err += t),
    isTTY: o.tty === true,
    color: false,
    columns: 120,
    env,
    ...(o.confirm ? { confirm: o.confirm } : {}),
  };
  const saved = { ...process.env };
  Object.assign(process.env, o.env);
  try {
    await yargs(argv)
      .scriptName("warmpool")
      .strict()
      .env("WARMPOOL")
      .command(
        makeCtlCommand({
          io: () => io,
          exit: (c) => (code = c),
          stdin: async () => o.stdin ?? "",
          ...(o.signal ? { signal: () => o.signal! } : {}),
        }),
      )
      .demandCommand(1)
      .exitProcess(false)
      .fail((msg, e) => {
        // As the root CLI does: report and stop (exit 2), no handler runs.
        err += `usage: ${msg ?? e?.message}\n`;
        code = 2;
        throw new UsageError();
      })
      .parseAsync();
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
  } finally {
    for (const k of Object.keys(o.env ?? {})) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
  }
  return { code: code ?? 0, out, err };
}

/** Every key of the pool with its full value: equal dumps ⇒ nothing was written. */
export async function dumpPool(redis: Redis, keys: PoolKeys): Promise<Record<string, unknown>> {
  const names = (await redis.keys(`${keys.prefix.replace(/[{}]/g, "\\$&")}*`)).sort();
  const out: Record<string, unknown> = {};
  for (const k of names) {
    const type = await redis.type(k);
    if (type === "string") out[k] = await redis.get(k);
    else if (type === "hash") out[k] = await redis.hgetall(k);
    else if (type === "zset") out[k] = await redis.zrange(k, 0, -1, "WITHSCORES");
    else if (type === "list") out[k] = await redis.lrange(k, 0, -1);
    else if (type === "set") out[k] = (await redis.smembers(k)).sort();
    else if (type === "stream") out[k] = await redis.xrange(k, "-", "+");
    else out[k] = type;
  }
  return out;
}
