/**
 * The planner (DESIGN §6 step 4): a pure function of (desired, observed, now) that returns the
 * actions of one pass and one line saying why. No I/O, no clock but `nowMs`, no randomness: the
 * reconciler and `warmpool sim` call it alike, and the same input always gives the same plan.
 * Rules and their reasons: docs/planner.md.
 */
import { takeCensus, type Census } from "./census.js";
import { gate, runActions } from "./gating.js";
import { size, type Sizing } from "./sizing.js";
import { DEFAULT_TIMINGS, type Action, type Plan, type PlanCounts, type PlanFn } from "./types.js";

export const plan: PlanFn = (desired, observed, nowMs, timings = DEFAULT_TIMINGS) => {
  const census = takeCensus(observed, nowMs, timings);
  const counts = countsOf(census, observed.waiting);
  const sizing = size(desired, census, observed.waiting, observed.revision, observed.drain);
  if (sizing.oldWarm > 0) counts.outdated = sizing.oldWarm;
  const wanted = sizing.base + sizing.surge;
  const summary =
    `target ${sizing.target} (minWarm ${desired.minWarm} + ${observed.waiting} waiting, maxWarm ${desired.maxWarm}, ` +
    `maxTasks ${desired.maxTasks}); idle ${counts.warm + counts.starting} (warm ${counts.warm}, starting ${counts.starting}` +
    `${counts.expected ? `, ${counts.expected} not yet listed` : ""}), claimed ${counts.claimed}, total ${counts.total}`;

  if (desired.paused) {
    return {
      actions: [],
      target: sizing.target,
      counts,
      held: "paused",
      reason: `paused: no action; ${summary}`,
    };
  }
  if (!observed.complete) {
    return {
      actions: [],
      target: sizing.target,
      counts,
      held: "partial-observation",
      reason: `observation incomplete: no launch and nothing destructive; ${summary}`,
    };
  }

  const g = gate(desired, observed, sizing.idle, wanted, nowMs, timings);
  const runs = g.open
    ? runActions(sizing.base, sizing.surge, observed.waiting, observed.revision, g.maxCalls)
    : [];
  const actions: Action[] = [...runs, ...(census.leaseExpired ? [{ kind: "expire-claims" as const }] : [])];
  actions.push(...census.actions, ...sizing.actions);

  const result: Plan = { actions, target: sizing.target, counts, reason: "" };
  if (wanted > 0 && g.held) result.launchHeld = g.held;
  result.reason = `${describeActions(actions, result, sizing, nowMs)}; ${summary}`;
  return result;
};

function countsOf(c: Census, waiting: number): PlanCounts {
  const startingLive =
    c.starting.length +
    c.actions.filter((a) => a.kind === "cordon-stop" && a.reason === "never-registered").length;
  const starting = startingLive + c.expected.length + c.unrecorded.length;
  return {
    starting,
    expected: c.expected.length,
    warm: c.warm.length,
    claimed: c.claimed.length,
    draining: c.draining.length,
    waiting,
    total: c.total,
    ...(c.unaccounted.length > 0 ? { unaccounted: c.unaccounted.length } : {}),
  };
}

/** `run 3 below-target, cordon-stop 2 excess` — or why nothing happened. */
function describeActions(actions: Action[], p: Plan, s: Sizing, nowMs: number): string {
  const tally = new Map<string, number>();
  for (const a of actions) {
    const key = a.kind === "expire-claims" ? a.kind : `${a.kind} ${a.reason}`;
    tally.set(key, (tally.get(key) ?? 0) + (a.kind === "run" ? a.count : 1));
  }
  const parts = [...tally].map(([k, n]) => {
    if (k === "expire-claims") return "expire claims past their lease";
    const [kind, reason] = k.split(" ");
    return `${kind} ${n} ${reason}`;
  });
  if (p.launchHeld?.why === "resync") {
    parts.push(`${p.launchHeld.wanted} launch(es) left to the resync (idle ${s.idle} ≥ replenishThreshold)`);
  } else if (p.launchHeld?.why === "backoff") {
    const inMs = (p.launchHeld.untilMs ?? nowMs) - nowMs;
    parts.push(`${p.launchHeld.wanted} launch(es) held: RunTask backoff, next in ${inMs} ms`);
  }
  if (s.oldWarm > s.drainWarm) parts.push(`rollout: ${s.oldWarm - s.drainWarm} old-revision warm left`);
  if (s.drainWarm > 0) parts.push(`drain: ${s.drainWarm} warm left to replace`);
  if (p.counts.unaccounted) {
    parts.push(`${p.counts.unaccounted} live task(s) older than the Redis state held (records lost?)`);
  }
  return parts.length > 0 ? parts.join(", ") : "steady";
}
