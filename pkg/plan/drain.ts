/**
 * Which idle tasks an on-call drain request (`Observed.drain`) covers: those created before the
 * request and, when it names a revision, of that revision. The request is level state: once
 * every covered idle task has been replaced (replacements are created after `beforeMs`), it
 * covers nothing and the pool is steady again, with or without the request still in Redis.
 */
import type { Slot } from "./census.js";
import { revisionMatches } from "./revision-match.js";
import type { Observed } from "./types.js";

export type DrainRequest = NonNullable<Observed["drain"]>;

/**
 * The task falls under the drain. Its age is the record's (`createdAtMs`, else `warmAtMs`), as
 * `ctl drain` counts it, else ECS's; a task with no known creation time is never drained.
 */
export function drained(drain: DrainRequest | undefined, s: Slot): boolean {
  if (drain === undefined) return false;
  const created = createdOf(s);
  if (created === undefined || !(created < drain.beforeMs)) return false;
  return drain.revision === undefined || revisionMatches(drain.revision, s.revision ?? s.record?.revision);
}

function createdOf(s: Slot): number | undefined {
  const r = s.record;
  if (r && Number.isFinite(r.createdAtMs)) return r.createdAtMs;
  if (r?.warmAtMs !== undefined && Number.isFinite(r.warmAtMs)) return r.warmAtMs;
  return s.ecs?.createdAtMs;
}
