/**
 * The fast refill's arithmetic (docs/reconciler.md, "The fast refill"): how many tasks a claim
 * that took the pool below its threshold may start at once, from a handful of counters rather than
 * every record. Pure, like the planner, and built from the planner's own rules: the warm target
 * and refill count of sizing.ts, the replenishThreshold and RunTask backoff gate of gating.ts, and
 * its cut into RunTask calls. It only ever launches: everything destructive, the rollout surge and
 * drains stay with the full pass.
 */
import type { DesiredState } from "../config/index.js";
import { gate, runActions } from "./gating.js";
import { refillCount, warmTarget } from "./sizing.js";
import type { Action, Observed, PlanTimings } from "./types.js";

export interface FastCounts {
  /** Registered, unclaimed tasks (ZCARD of the warm set). */
  warm: number;
  /**
   * Launched and not yet registered, claimed or cordoned, plus RunTask calls still in flight and
   * live tasks with no record. Any error here must be an over-count: an over-count only delays a
   * launch to the next full pass, an under-count would launch too many.
   */
  starting: number;
  /** Every pool task that counts against maxTasks (records, plus launches not yet recorded). */
  total: number;
  /** Claims queued for a task (LLEN of the waiting list). */
  waiting: number;
}

export interface FastRefillInput {
  desired: DesiredState;
  counts: FastCounts;
  /** Task definition ARN new tasks run. */
  revision: string;
  recentRunFailures?: Observed["recentRunFailures"];
  lastRunAtMs?: number;
}

export interface FastRefill {
  /** Launch actions (kind "run" only), empty when nothing is due or the gate is shut. */
  actions: Action[];
  target: number;
  idle: number;
  /** Why nothing launches, when nothing does. */
  held?: "paused" | "no-revision" | "not-urgent" | "backoff" | "at-target";
}

export function fastRefill(i: FastRefillInput, nowMs: number, timings: PlanTimings): FastRefill {
  const { desired, counts } = i;
  const idle = counts.warm + counts.starting;
  const target = warmTarget(desired, counts.waiting, counts.total, idle);
  const out = (held: FastRefill["held"]): FastRefill => ({ actions: [], target, idle, held });
  if (desired.paused) return out("paused");
  if (i.revision === "") return out("no-revision");
  const wanted = refillCount(target, idle, desired.maxTasks - counts.total);
  if (wanted === 0) return out("at-target");
  // An event pass that finds no resync due: the gate opens only when the pool is urgent (idle
  // below replenishThreshold, or claims waiting) and no RunTask backoff holds.
  const g = gate(
    desired,
    {
      complete: true,
      ecs: [],
      records: [],
      waiting: counts.waiting,
      revision: i.revision,
      eventTriggered: true,
      resyncDue: false,
      ...(i.recentRunFailures ? { recentRunFailures: i.recentRunFailures } : {}),
      ...(i.lastRunAtMs !== undefined ? { lastRunAtMs: i.lastRunAtMs } : {}),
    },
    idle,
    wanted,
    nowMs,
    timings,
  );
  if (!g.open) return out(g.held?.why === "backoff" ? "backoff" : "not-urgent");
  return { actions: runActions(wanted, 0, counts.waiting, i.revision, g.maxCalls), target, idle };
}
