/**
 * A field-by-field diff of two desired-state documents (`minWarm: 5 → 8`), what on-call checks
 * before a write lands and what the history shows for each change.
 */
import { style, type CtlIO } from "./io.js";

export interface Change {
  field: string;
  before?: unknown;
  after?: unknown;
}

export function diffDocs(before: unknown, after: unknown): Change[] {
  const a = flatten(before);
  const b = flatten(after);
  const fields = [...new Set([...a.keys(), ...b.keys()])];
  const changes: Change[] = [];
  for (const f of fields) {
    const x = a.get(f);
    const y = b.get(f);
    if (JSON.stringify(x) === JSON.stringify(y)) continue;
    const c: Change = { field: f };
    if (a.has(f)) c.before = x;
    if (b.has(f)) c.after = y;
    changes.push(c);
  }
  return changes;
}

export function renderDiff(changes: Change[], io: Pick<CtlIO, "color">): string {
  const st = style(io);
  return changes
    .map((c) => {
      if (!("before" in c)) return st.green(`+ ${c.field}: ${show(c.after)}`);
      if (!("after" in c)) return st.red(`- ${c.field}: ${show(c.before)}`);
      return `~ ${c.field}: ${st.red(show(c.before))} → ${st.green(show(c.after))}`;
    })
    .map((l) => `  ${l}\n`)
    .join("");
}

/** One line for tables: `minWarm 5→8, paused false→true`. */
export function summarizeDiff(changes: Change[]): string {
  if (changes.length === 0) return "no change";
  return changes
    .map((c) =>
      !("before" in c)
        ? `+${c.field} ${show(c.after)}`
        : !("after" in c)
          ? `-${c.field}`
          : `${c.field} ${show(c.before)}→${show(c.after)}`,
    )
    .join(", ");
}

function show(v: unknown): string {
  return typeof v === "string" ? JSON.stringify(v) : String(JSON.stringify(v));
}

function flatten(v: unknown, prefix = "", out = new Map<string, unknown>()): Map<string, unknown> {
  if (typeof v !== "object" || v === null || Array.isArray(v)) {
    if (prefix) out.set(prefix, v);
    return out;
  }
  for (const [k, x] of Object.entries(v)) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (typeof x === "object" && x !== null && !Array.isArray(x)) flatten(x, key, out);
    else out.set(key, x);
  }
  return out;
}
