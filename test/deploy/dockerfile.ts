/**
 * Reads a Dockerfile into instructions (continuations joined, comments dropped) and resolves its
 * build stages' base images from ARG defaults — enough to check the properties a linter would:
 * pinned bases, a non-root final user, a health check, nothing secret baked in.
 */
import { readFileSync } from "node:fs";

export interface Instruction {
  line: number;
  op: string;
  args: string;
}

export interface Stage {
  /** The FROM argument with ARG defaults substituted; null when an ARG without a default is used. */
  base: string | null;
  rawBase: string;
  alias: string | null;
  instructions: Instruction[];
}

export interface Dockerfile {
  path: string;
  /** ARGs declared before the first FROM: name → default (null when none). */
  globalArgs: Map<string, string | null>;
  stages: Stage[];
}

export function readDockerfile(path: string): Dockerfile {
  const lines = readFileSync(path, "utf8").split("\n");
  const instructions: Instruction[] = [];
  let current: Instruction | null = null;
  lines.forEach((raw, i) => {
    const text = raw.trim();
    if (current === null && (text === "" || text.startsWith("#"))) return;
    if (current !== null && text.startsWith("#")) return;
    const cont = text.endsWith("\\");
    const body = cont ? text.slice(0, -1).trim() : text;
    if (current) current.args += " " + body;
    else {
      const m = /^(\S+)\s*(.*)$/.exec(body)!;
      current = { line: i + 1, op: m[1]!.toUpperCase(), args: m[2] ?? "" };
    }
    if (!cont) {
      instructions.push(current);
      current = null;
    }
  });

  const globalArgs = new Map<string, string | null>();
  const stages: Stage[] = [];
  for (const ins of instructions) {
    if (ins.op === "FROM") {
      const m = /^(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?$/i.exec(ins.args);
      if (!m) throw new Error(`${path}:${ins.line}: cannot read FROM ${ins.args}`);
      stages.push({
        rawBase: m[1]!,
        base: substitute(m[1]!, globalArgs),
        alias: m[2] ?? null,
        instructions: [],
      });
    } else if (stages.length === 0) {
      if (ins.op !== "ARG") throw new Error(`${path}:${ins.line}: only ARG may come before FROM`);
      const [name, dflt] = splitArg(ins.args);
      globalArgs.set(name, dflt === null ? null : substitute(dflt, globalArgs));
    } else stages[stages.length - 1]!.instructions.push(ins);
  }
  return { path, globalArgs, stages };
}

function splitArg(args: string): [string, string | null] {
  const eq = args.indexOf("=");
  return eq < 0 ? [args.trim(), null] : [args.slice(0, eq).trim(), args.slice(eq + 1).trim()];
}

function substitute(text: string, args: Map<string, string | null>): string | null {
  let unresolved = false;
  const out = text.replace(/\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?/g, (_m, name: string) => {
    const v = args.get(name);
    if (v === undefined || v === null) {
      unresolved = true;
      return "";
    }
    return v;
  });
  return unresolved ? null : out;
}
