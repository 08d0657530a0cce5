/**
 * Gating knows *when* launches may go out, given how many sizing wants: the replenishThreshold
 * rule (DESIGN §5: below the threshold refill at once from the event path, otherwise wait for
 * the resync so RunTask calls batch; an event pass with `resyncDue` counts as the resync), the
 * backoff after RunTask failures (exponential from the last batch, never a tight loop), and how
 * launches are cut into RunTask calls of ≤ 10.
 */
import type { DesiredState } from "../config/index.js";
import type { Action, Observed, Plan, PlanTimings } from "./types.js";

/** RunTask's own limit on `count`. */
export const RUN_TASK_MAX = 10;

export interface Gate {
  /** Launches may go out now; at most `maxCalls` RunTask calls (1 while probing after failures). */
  open: boolean;
  maxCalls: number;
  held?: NonNullable<Plan["launchHeld"]>;
}

export function gate(
  desired: DesiredState,
  observed: Observed,
  idle: number,
  wanted: number,
  nowMs: number,
  t: PlanTimings,
): Gate {
  const failures = (observed.recentRunFailures ?? []).reduce((n, f) => n + Math.max(0, f.count), 0);
  let maxCalls = Infinity;
  if (failures > 0) {
    const lastFailure = Math.max(...(observed.recentRunFailures ?? []).map((f) => f.lastAtMs));
    const since = observed.lastRunAtMs ?? lastFailure;
    const delay = backoffMs(failures, t);
    if (nowMs < since + delay) {
      return { open: false, maxCalls: 0, held: { why: "backoff", wanted, untilMs: since + delay } };
    }
    // A probe: one call, so a capacity shortage costs one failed batch, not a burst of them.
    maxCalls = 1;
  }
  const urgent =
    idle < desired.replenishThreshold || observed.waiting > 0 || observed.desiredChanged === true;
  // A resync pass, or an event pass that finds a resync overdue (`resyncDue`): a stream of events
  // must never stand in for the resync forever, or idle could sit between replenishThreshold and
  // the target for as long as the events keep coming.
  const resync = !observed.eventTriggered || observed.resyncDue === true;
  if (!resync && !urgent) {
    return { open: false, maxCalls: 0, held: { why: "resync", wanted } };
  }
  return { open: true, maxCalls };
}

/** base · 2^(failures−1), capped at max. */
export function backoffMs(failures: number, t: PlanTimings): number {
  const exp = Math.min(Math.max(failures, 1) - 1, 30);
  return Math.min(t.runBackoffMaxMs, t.runBackoffBaseMs * 2 ** exp);
}

/** Cuts launches into RunTask calls of at most 10, base refill first, then the surge. */
export function runActions(
  base: number,
  surge: number,
  waiting: number,
  revision: string,
  maxCalls: number,
): Action[] {
  const out: Action[] = [];
  const cut = (n: number, reason: "below-target" | "waiting-claims" | "surge"): void => {
    while (n > 0 && out.length < maxCalls) {
      const count = Math.min(RUN_TASK_MAX, n);
      out.push({ kind: "run", count, revision, reason });
      n -= count;
    }
  };
  cut(base, waiting > 0 ? "waiting-claims" : "below-target");
  cut(surge, "surge");
  return out;
}
