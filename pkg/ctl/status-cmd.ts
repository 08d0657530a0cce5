/**
 * `ctl status [--watch] [--output json]`: one report and an exit code a probe can use, or a
 * report redrawn in place every interval until interrupted (a dropped Redis connection shows in
 * the frame and the watch carries on).
 */
import type { CtlContext } from "./context.js";
import { CtlError, EXIT, type ExitCode } from "./errors.js";
import { json, style } from "./io.js";
import { gatherAllPools, renderAllPools } from "./status-all.js";
import { gatherStatus, type StatusOptions, type StatusReport } from "./status-report.js";
import { renderStatus } from "./status-render.js";

export interface WatchOptions extends StatusOptions {
  intervalMs?: number;
  /** Ends the watch (SIGINT in the CLI). */
  signal?: AbortSignal;
  /** Stop after this many frames (tests). */
  maxFrames?: number;
}

/** Flags of status that need a range, checked before anything is read. */
function checkOptions(opts: WatchOptions): void {
  if (opts.staleAfterMs !== undefined && !(opts.staleAfterMs > 0)) {
    throw new CtlError(
      `--stale-after: must be a positive number of seconds (got ${opts.staleAfterMs / 1000})`,
    );
  }
  if (opts.intervalMs !== undefined && !(opts.intervalMs >= 100)) {
    throw new CtlError(`--interval: must be at least 0.1 seconds (got ${opts.intervalMs / 1000})`);
  }
}

export async function statusCommand(ctx: CtlContext, opts: StatusOptions = {}): Promise<ExitCode> {
  checkOptions(opts);
  const r = await gatherStatus(ctx, opts);
  ctx.io.out(ctx.output === "json" ? json(toJson(r)) : renderStatus(r, ctx.io));
  return r.health.exitCode;
}

/** What the overview needs: a connection, no pool. */
type AnyPoolContext = Pick<CtlContext, "redis" | "io" | "output">;

/** `ctl status` over every registered pool: one line each (pkg/ctl/status-all.ts). */
export async function allPoolsStatus(ctx: AnyPoolContext, opts: StatusOptions = {}): Promise<ExitCode> {
  checkOptions(opts);
  const r = await gatherAllPools(ctx, opts);
  ctx.io.out(ctx.output === "json" ? json(r) : renderAllPools(r, ctx.io));
  return r.health.exitCode;
}

export function watchStatus(ctx: CtlContext, opts: WatchOptions = {}): Promise<ExitCode> {
  return watchFrames(ctx, opts, async () => {
    const r = await gatherStatus(ctx, opts);
    return { exitCode: r.health.exitCode, json: toJson(r), text: renderStatus(r, ctx.io) };
  });
}

export function watchAllPools(ctx: AnyPoolContext, opts: WatchOptions = {}): Promise<ExitCode> {
  return watchFrames(ctx, opts, async () => {
    const r = await gatherAllPools(ctx, opts);
    return { exitCode: r.health.exitCode, json: r, text: renderAllPools(r, ctx.io) };
  });
}

async function watchFrames(
  ctx: AnyPoolContext,
  opts: WatchOptions,
  frameOf: () => Promise<{ exitCode: ExitCode; json: unknown; text: string }>,
): Promise<ExitCode> {
  checkOptions(opts);
  const interval = opts.intervalMs ?? 2_000;
  const st = style(ctx.io);
  let last: ExitCode = EXIT.ok;
  for (let frame = 1; !opts.signal?.aborted; frame++) {
    let text: string;
    try {
      const f = await frameOf();
      last = f.exitCode;
      text = ctx.output === "json" ? JSON.stringify(f.json) + "\n" : f.text;
    } catch (e) {
      last = EXIT.unreachable;
      const msg = `Redis unreachable: ${e instanceof Error ? e.message : String(e)}; retrying every ${interval / 1000}s`;
      text = ctx.output === "json" ? JSON.stringify({ error: msg }) + "\n" : `${st.red(msg)}\n`;
    }
    if (ctx.output === "json") ctx.io.out(text);
    else if (ctx.io.isTTY) {
      const footer = st.dim(
        `every ${interval / 1000}s · ${new Date().toISOString().slice(11, 19)}Z · Ctrl-C to stop`,
      );
      ctx.io.out(`\x1b[H\x1b[2J${text}\n${footer}\n`);
    } else ctx.io.out(`${frame > 1 ? "\n" : ""}${text}`);
    if (opts.maxFrames !== undefined && frame >= opts.maxFrames) break;
    await sleep(interval, opts.signal);
  }
  return last;
}

/** The JSON form: the report, with the verdict on top for `jq .health`. */
function toJson(r: StatusReport): unknown {
  const { health, ...rest } = r;
  return { health, ...rest };
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}
