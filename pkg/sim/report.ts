/**
 * Renders results for people (a plain-text table) and for programs (JSON). The table's columns
 * are the comparison the README shows: hit rate, claim wait p50/p99/max, idle and total
 * task-hours, cost and RunTask calls.
 */
import type { Comparison } from "./compare.js";
import type { SimResult } from "./stats.js";

const COLUMNS: [string, (r: SimResult) => string][] = [
  ["policy", (r) => r.label],
  ["claims", (r) => String(r.claims)],
  ["warm hits", (r) => pct(r.hitRate)],
  ["wait p50", (r) => secs(r.waitP50Ms)],
  ["wait p99", (r) => secs(r.waitP99Ms)],
  ["wait max", (r) => secs(r.waitMaxMs)],
  ["idle task-h", (r) => r.idleTaskHours.toFixed(1)],
  ["total task-h", (r) => r.totalTaskHours.toFixed(1)],
  ["cost", (r) => `$${r.cost.toFixed(2)}`],
  ["RunTask calls", (r) => String(r.runTaskCalls)],
  ["mean target", (r) => r.meanTarget.toFixed(1)],
];

export function table(results: readonly SimResult[]): string {
  const rows = [COLUMNS.map((c) => c[0]), ...results.map((r) => COLUMNS.map((c) => c[1](r)))];
  const widths = COLUMNS.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  const line = (row: string[]) =>
    row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join("  ");
  return [line(rows[0]!), widths.map((w) => "-".repeat(w)).join("  "), ...rows.slice(1).map(line)].join("\n");
}

/** The comparison as a table plus its verdict and the sweep it searched. */
export function comparisonText(name: string, c: Comparison): string {
  const rows = [c.origin, ...(c.bestStatic ? [c.bestStatic] : []), c.adaptive];
  const sweep = c.sweep.map((p) => `${p.size}:${pct(p.hitRate)}`).join(" ");
  const verdict = c.bestStatic
    ? `adaptive ${pct(c.adaptive.hitRate)} with ${c.adaptive.idleTaskHours.toFixed(1)} idle task-h vs best static ` +
      `${c.bestStaticSize} at ${pct(c.bestStatic.hitRate)} with ${c.bestStatic.idleTaskHours.toFixed(1)} idle task-h ` +
      `(${savings(c.adaptive.idleTaskHours, c.bestStatic.idleTaskHours)})`
    : `no static size up to the sweep limit reached ${pct(c.goal)}`;
  return [
    `${name}: ${c.origin.claims} claims, goal ${pct(c.goal)} warm hits`,
    table(rows),
    `sweep (size:hit rate): ${sweep}`,
    `${c.adaptiveWins ? "PASS" : "FAIL"}: ${verdict}`,
  ].join("\n");
}

/** JSON for programs: numbers in base units (ms, hours), the time series included. */
export function toJson(value: unknown): string {
  return JSON.stringify(value, null, 2);
}

function pct(x: number): string {
  return `${(x * 100).toFixed(2)}%`;
}
function secs(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}
function savings(a: number, b: number): string {
  return b > 0 ? `${(((b - a) / b) * 100).toFixed(0)}% fewer` : "n/a";
}
