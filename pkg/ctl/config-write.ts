/**
 * The one way ctl changes the desired state: validate with the reconciler's own rules (every
 * problem named by field and rule), show the diff against what was read, stop there on
 * `--dry-run`, ask in a terminal unless `--yes`, then compare-and-set — so a change someone else
 * made since the read is refused, never overwritten — with an audit entry (who, why, before,
 * after) in `config:history`. Nothing is written on any refusal.
 */
import {
  DEFAULT_DESIRED,
  formatConfigErrors,
  validateDesiredState,
  type ConfigError,
  type ConfigRead,
  type DesiredState,
} from "../config/index.js";
import type { CtlContext } from "./context.js";
import { diffDocs, renderDiff, type Change } from "./diff.js";
import { EXIT, type ExitCode } from "./errors.js";
import { age } from "./format.js";
import { json, style } from "./io.js";
import { redisNowMs } from "./context.js";

export interface WriteFlags {
  dryRun?: boolean;
  /** Skip the terminal confirmation. */
  yes?: boolean;
  /** Why, recorded with the OS user in the history. */
  reason?: string;
}

export interface WriteRequest extends WriteFlags {
  /** The new document (validated here). */
  next: unknown;
  /** What was read before computing `next`: the compare-and-set expects exactly it. */
  read: ConfigRead;
  /** What the history says when no --reason is given, e.g. `ctl config set minWarm=8`. */
  action: string;
}

/** The value a read stands for, to diff against: the key's, the defaults when missing. */
export function baseOf(read: ConfigRead): unknown {
  if (read.state === "valid") return read.value;
  if (read.state === "missing") return DEFAULT_DESIRED;
  try {
    return JSON.parse(read.raw) as unknown;
  } catch {
    return {};
  }
}

export async function writeDesired(ctx: CtlContext, req: WriteRequest): Promise<ExitCode> {
  const { io } = ctx;
  const st = style(io);
  const v = validateDesiredState(req.next);
  if (!v.ok) {
    reportInvalid(ctx, v.errors);
    return EXIT.refused;
  }
  const changes = diffDocs(baseOf(req.read), v.value);
  const missing = req.read.state === "missing";
  const text = ctx.output === "text";
  if (changes.length === 0 && !missing) {
    if (text) io.out("no change: the desired state already says that; nothing written\n");
    else io.out(json({ written: false, reason: "no-change", changes }));
    return EXIT.ok;
  }
  if (text) {
    const from = missing ? " (the key is missing: diff against the defaults)" : "";
    io.out(`${st.bold(`desired state of pool ${ctx.pool}`)}${from}\n`);
    io.out(
      changes.length > 0 ? renderDiff(changes, io) : "  (no field changes; the defaults are written out)\n",
    );
  }
  if (req.dryRun) {
    if (text) io.out(st.yellow("dry run: nothing written\n"));
    else io.out(json({ written: false, reason: "dry-run", changes, value: v.value }));
    return EXIT.ok;
  }
  if (!req.yes && io.confirm && !(await io.confirm("apply this change?"))) {
    io.err("aborted: nothing written\n");
    return EXIT.refused;
  }
  const r = await ctx.config.write(v.value, {
    expectedRaw: req.read.state === "missing" ? null : req.read.raw,
    who: ctx.who,
    reason: req.reason?.trim() || req.action,
  });
  if (r.ok) {
    if (text) io.out(st.green(`written${r.historyId ? ` (history ${r.historyId})` : ""}\n`));
    else io.out(json({ written: r.written, historyId: r.historyId ?? null, changes, value: v.value }));
    return EXIT.ok;
  }
  if (r.reason === "invalid") {
    reportInvalid(ctx, r.errors);
    return EXIT.refused;
  }
  await reportConflict(ctx, changes);
  return EXIT.conflict;
}

export function reportInvalid(ctx: CtlContext, errors: ConfigError[]): void {
  if (ctx.output === "json") {
    ctx.io.out(json({ written: false, reason: "invalid", errors }));
  }
  const st = style(ctx.io);
  const lines = errors.map((e) => `  ${e.field}: ${e.message.replace(`${e.field}: `, "")} [${e.rule}]`);
  ctx.io.err(
    `${st.red("desired state rejected")} (${errors.length} problem${errors.length === 1 ? "" : "s"}); nothing written:\n${lines.join("\n")}\n`,
  );
}

/** Someone changed the key between our read and our write: say who and when, change nothing. */
async function reportConflict(ctx: CtlContext, changes: Change[]): Promise<void> {
  const [newest] = await ctx.config.history(1);
  const now = await redisNowMs(ctx.redis);
  const by = newest
    ? ` (last change ${age(newest.atMs, now)} ago by ${newest.who ?? "unknown"}${newest.why ? `: ${newest.why}` : ""})`
    : "";
  const msg = `refused: the desired state changed since it was read${by}; nothing written. Re-run to apply your change on top of the current value.`;
  if (ctx.output === "json") ctx.io.out(json({ written: false, reason: "conflict", changes, message: msg }));
  ctx.io.err(`${style(ctx.io).red(msg)}\n`);
}

/** For commands that patch the value in force: refuse when the key holds something invalid. */
export function patchable(read: ConfigRead, what: string): DesiredState | { error: string } {
  if (read.state === "valid") return read.value;
  if (read.state === "missing") return structuredClone(DEFAULT_DESIRED);
  return {
    error: `${what}: the config key holds an invalid desired state (${formatConfigErrors(read.errors)}); patching it could keep a broken field. Fix the whole document with \`ctl config edit\`, \`ctl config apply -f FILE\` or \`ctl config rollback\`; nothing written`,
  };
}
