/**
 * `ctl config get | set | apply | validate | edit`: read the desired state, change it by field or
 * as a whole document, or check a file without touching Redis. Every write goes through
 * writeDesired (validate → diff → dry-run/confirm → compare-and-set with audit).
 */
import { spawn } from "node:child_process";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DEFAULT_DESIRED, parseDesiredState, type ConfigError } from "../config/index.js";
import { applyAssignments, parseAssignments } from "./assign.js";
import type { CtlContext } from "./context.js";
import { CtlError, EXIT, type ExitCode } from "./errors.js";
import { json, style, type CtlIO, type OutputFormat } from "./io.js";
import { patchable, reportInvalid, writeDesired, type WriteFlags } from "./config-write.js";

export async function configGet(ctx: CtlContext): Promise<ExitCode> {
  const r = await ctx.config.read();
  if (ctx.output === "json") {
    if (r.state === "valid") ctx.io.out(json(r.value));
    else if (r.state === "missing") ctx.io.out(json(DEFAULT_DESIRED));
    else ctx.io.out(json({ invalid: true, raw: r.raw, errors: r.errors }));
    return r.state === "invalid" ? EXIT.invalidDesired : EXIT.ok;
  }
  const st = style(ctx.io);
  if (r.state === "valid") {
    ctx.io.out(json(r.value));
    return EXIT.ok;
  }
  if (r.state === "missing") {
    ctx.io.err(st.yellow(`the config key of pool ${ctx.pool} is missing: the defaults are in force\n`));
    ctx.io.out(json(DEFAULT_DESIRED));
    return EXIT.ok;
  }
  ctx.io.out(`${r.raw}\n`);
  reportInvalid({ ...ctx, output: "text" }, r.errors);
  ctx.io.err("the reconciler keeps the last good desired state in force (see `ctl status`)\n");
  return EXIT.invalidDesired;
}

export async function configSet(ctx: CtlContext, args: string[], flags: WriteFlags): Promise<ExitCode> {
  const assignments = parseAssignments(args);
  const read = await ctx.config.read();
  const base = patchable(read, "config set");
  if ("error" in base) throw new CtlError(base.error);
  return writeDesired(ctx, {
    ...flags,
    read,
    next: applyAssignments(base, assignments),
    action: `ctl config set ${args.join(" ")}`,
  });
}

/** Reads FILE (`-` = stdin) as a whole desired-state document. */
async function readDocument(file: string, stdin?: () => Promise<string>): Promise<string> {
  try {
    if (file === "-") {
      if (!stdin) throw new Error("stdin is not available");
      return await stdin();
    }
    return await readFile(file, "utf8");
  } catch (e) {
    throw new CtlError(
      `-f ${file}: cannot read: ${e instanceof Error ? e.message : String(e)}`,
      EXIT.refused,
      {
        cause: e,
      },
    );
  }
}

export async function configApply(
  ctx: CtlContext,
  file: string,
  flags: WriteFlags,
  stdin?: () => Promise<string>,
): Promise<ExitCode> {
  const text = await readDocument(file, stdin);
  const parsed = parseDesiredState(text);
  if (!parsed.ok) {
    reportInvalid(ctx, withFile(parsed.errors, file));
    return EXIT.refused;
  }
  const read = await ctx.config.read();
  return writeDesired(ctx, { ...flags, read, next: JSON.parse(text), action: `ctl config apply -f ${file}` });
}

/** Checks a file against the reconciler's rules; needs no Redis. */
export async function configValidate(
  io: CtlIO,
  output: OutputFormat,
  file: string,
  stdin?: () => Promise<string>,
): Promise<ExitCode> {
  const text = await readDocument(file, stdin);
  const r = parseDesiredState(text);
  if (output === "json") {
    io.out(json(r.ok ? { valid: true, value: r.value } : { valid: false, errors: r.errors }));
    return r.ok ? EXIT.ok : EXIT.refused;
  }
  const st = style(io);
  if (r.ok) {
    io.out(`${st.green(`${file}: valid`)}; in force it reads (defaults written out):\n${json(r.value)}`);
    return EXIT.ok;
  }
  const lines = r.errors.map((e) => `  ${e.field}: ${e.message.replace(`${e.field}: `, "")} [${e.rule}]`);
  io.err(
    `${st.red(`${file}: invalid`)} (${r.errors.length} problem${r.errors.length === 1 ? "" : "s"}):\n${lines.join("\n")}\n`,
  );
  return EXIT.refused;
}

/**
 * Opens the value in $VISUAL/$EDITOR (vi when neither is set). An edit that does not validate is
 * kept in its temp file, named in the message, for `config apply -f`; the compare-and-set
 * expects the value read before the editor opened, so a change made meanwhile is refused.
 */
export async function configEdit(ctx: CtlContext, flags: WriteFlags): Promise<ExitCode> {
  const read = await ctx.config.read();
  const initial =
    read.state === "valid"
      ? json(read.value)
      : read.state === "missing"
        ? json(DEFAULT_DESIRED)
        : prettyIfJson(read.raw);
  const dir = await mkdtemp(join(tmpdir(), "warmpool-config-"));
  const file = join(dir, `${ctx.pool}.json`);
  await writeFile(file, initial);
  const editor = ctx.io.env.VISUAL || ctx.io.env.EDITOR || "vi";
  const code = await runEditor(editor, file);
  if (code !== 0)
    throw new CtlError(`editor ${JSON.stringify(editor)} exited with status ${code}; nothing written`);
  const edited = await readFile(file, "utf8");
  if (edited === initial) {
    ctx.io.out("no change in the editor; nothing written\n");
    return EXIT.ok;
  }
  const parsed = parseDesiredState(edited);
  if (!parsed.ok) {
    reportInvalid(ctx, parsed.errors);
    ctx.io.err(`your edit is kept in ${file}; fix it and run: warmpool ctl config apply -f ${file}\n`);
    return EXIT.refused;
  }
  return writeDesired(ctx, { ...flags, read, next: JSON.parse(edited), action: "ctl config edit" });
}

function runEditor(editor: string, file: string): Promise<number> {
  return new Promise((resolve, reject) => {
    // Through the shell, so EDITOR="code --wait" works as it does for git.
    const child = spawn("sh", ["-c", `${editor} "$1"`, "sh", file], { stdio: "inherit" });
    child.on("error", reject);
    child.on("exit", (c, sig) => resolve(c ?? (sig ? 128 : 1)));
  });
}

function prettyIfJson(raw: string): string {
  try {
    return json(JSON.parse(raw));
  } catch {
    return raw.endsWith("\n") ? raw : `${raw}\n`;
  }
}

function withFile(errors: ConfigError[], file: string): ConfigError[] {
  return errors.map((e) =>
    e.rule === "json"
      ? { ...e, message: e.message.replace("malformed JSON:", `malformed JSON in ${file}:`) }
      : e,
  );
}
