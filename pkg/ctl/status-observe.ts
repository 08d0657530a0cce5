/**
 * How the reconciler observes ECS, for `ctl status` (issue 14): every pass lists everything
 * (`list`), or a cache fed by the event feed — or, with no feed configured, by Redis, the
 * reconciler's own writes and relists alone — with the last relist and the drift it found.
 */
import type { StatusSnapshot } from "../reconciler/index.js";

type Observe = NonNullable<StatusSnapshot["observe"]>;

const ago = (ms: number, nowMs: number): string => {
  const s = Math.max(0, Math.round((nowMs - ms) / 1000));
  return s < 120 ? `${s}s` : s < 7200 ? `${Math.round(s / 60)}m` : `${Math.round(s / 3600)}h`;
};
const every = (ms: number): string => (ms % 60_000 === 0 ? `${ms / 60_000}m` : `${ms / 1000}s`);

/** One or two lines for the `observe` row of the report; empty when the reconciler said nothing. */
export function describeObserve(o: Observe | undefined, nowMs: number): string[] {
  if (!o) return [];
  if (o.mode === "list") return ["list: ListTasks + DescribeTasks every pass (--observe=list)"];
  const lines: string[] = [];
  const f = o.feed;
  if (!f)
    lines.push(
      `cache, no feed configured: Redis, own writes and a relist every ${every(o.relistIntervalMs)}`,
    );
  else {
    const last = f.lastEventAtMs !== undefined ? `, last event ${ago(f.lastEventAtMs, nowMs)} ago` : "";
    const down =
      f.state === "down" && f.downSinceMs !== undefined ? ` since ${ago(f.downSinceMs, nowMs)} ago` : "";
    const e = f.events;
    lines.push(
      `cache + event feed ${f.state}${down}${last}; applied ${e.applied}, dropped ${e.duplicate} duplicate, ${e.stale} stale, ${e.foreign} foreign, ${e.malformed} malformed`,
    );
  }
  const r = o.lastRelist;
  const relist = o.relisting
    ? "relist under way"
    : r
      ? `last relist ${ago(r.atMs, nowMs)} ago ${r.result}${r.result === "ok" ? ` (${r.tasks} tasks, ${r.calls} calls, ${r.durationMs}ms, drift ${r.drift})` : `: ${r.error ?? ""}`}`
      : "no relist yet";
  lines.push(
    `${relist}; ${o.cacheTasks} tasks cached; targeted describes ${o.targeted.calls} (drift ${o.targeted.drift})`,
  );
  return lines;
}

/** Warnings for the verdict: the feed down, or the last relist finding the cache wrong. */
export function observeWarnings(o: Observe | undefined, nowMs: number): string[] {
  if (!o || o.mode === "list") return [];
  const out: string[] = [];
  if (o.feed?.state === "down") {
    const since = o.feed.downSinceMs !== undefined ? ` for ${ago(o.feed.downSinceMs, nowMs)}` : "";
    out.push(
      `event feed down${since}: working from Redis, own writes and relists (${o.feed.lastError ?? "no answer"})`,
    );
  }
  if (o.lastRelist?.result === "ok" && o.lastRelist.drift > 0)
    out.push(`the last relist found ${o.lastRelist.drift} task(s) the cache had wrong (events lost?)`);
  if (o.lastRelist?.result === "error") out.push(`the last relist failed: ${o.lastRelist.error ?? ""}`);
  return out;
}
