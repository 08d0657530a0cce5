/** Short human forms of durations, ages and task definition ARNs, shared by every ctl view. */

/** `850ms`, `12s`, `4m05s`, `3h12m`, `2d4h`. */
export function duration(ms: number): string {
  if (!Number.isFinite(ms)) return "-";
  const neg = ms < 0;
  const a = Math.abs(ms);
  let s: string;
  if (a < 1_000) s = `${Math.round(a)}ms`;
  else if (a < 60_000) s = `${Math.floor(a / 1_000)}s`;
  else if (a < 3_600_000) s = `${Math.floor(a / 60_000)}m${pad2(Math.floor(a / 1_000) % 60)}s`;
  else if (a < 86_400_000) s = `${Math.floor(a / 3_600_000)}h${pad2(Math.floor(a / 60_000) % 60)}m`;
  else s = `${Math.floor(a / 86_400_000)}d${Math.floor(a / 3_600_000) % 24}h`;
  return neg ? `-${s}` : s;
}

/** An age from a timestamp: `12s` (or `-` when unknown). */
export function age(fromMs: number | undefined, nowMs: number): string {
  return fromMs === undefined || fromMs <= 0 ? "-" : duration(nowMs - fromMs);
}

/** ISO time without milliseconds, UTC: `2026-11-28T23:50:36Z`. */
export function isoTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
}

function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/** `arn:aws:ecs:…:task-definition/agent:7` → `agent:7`; anything else unchanged. */
export function shortRevision(revision: string | undefined): string {
  if (!revision) return "-";
  const i = revision.indexOf(":task-definition/");
  return i >= 0 ? revision.slice(i + ":task-definition/".length) : revision;
}

/** `0.42` → `42%`. */
export function percent(ratio: number): string {
  return `${Math.round(ratio * 100)}%`;
}
