/**
 * Sizing knows the counting rules: the warm target, which idle tasks are excess (over maxWarm
 * or over maxTasks), which old tasks may go now that new ones cover them, and how many tasks to
 * start — base refill first, then the rollout surge, both inside maxTasks. A task is old when it
 * runs another revision than new tasks get, or when on-call's drain request covers it (drain.ts):
 * both take the same surge-first path, so a drain never leaves fewer warm than a rollout would.
 * It decides counts and victims; it does not decide *whether* to launch now (gating.ts).
 */
import type { DesiredState } from "../config/index.js";
import { cordonStop, type Census, type Slot } from "./census.js";
import { drained, type DrainRequest } from "./drain.js";
import type { Action, StopReason } from "./types.js";

export interface Sizing {
  /** The warm target after clamping to [minWarm, maxWarm] and capping by maxTasks. */
  target: number;
  /** Cordon-stops of idle tasks: excess, over-cap, old-revision. */
  actions: Action[];
  /** Idle (warm + starting) after those cordons: what claims can still take or will soon. */
  idle: number;
  /** Tasks to start for the target, and beyond it for the rollout surge (maxTasks applied). */
  base: number;
  surge: number;
  /** Old warm tasks (old revision or drained) left after this pass's cordons. */
  oldWarm: number;
  /** Of oldWarm: those the drain request covers. */
  drainWarm: number;
}

export function size(
  desired: DesiredState,
  census: Census,
  waiting: number,
  revision: string,
  drain?: DrainRequest,
): Sizing {
  const actions: Action[] = [];
  const isDrained = (s: Slot): boolean => drained(drain, s);
  const isOld = (s: Slot): boolean =>
    (s.revision !== undefined && !sameRevision(s.revision, revision)) || isDrained(s);
  // On-call's request names the reason when it covers the task, so `ctl status` shows the drain.
  const oldReason = (s: Slot): StopReason => (isDrained(s) ? "drain" : "old-revision");
  // Victim order: old revision first (it must go anyway), then the longest idle (claims take the
  // oldest warm too, so the oldest has waited longest for nothing).
  const byAge = (a: Slot, b: Slot): number => warmAt(a) - warmAt(b) || (a.taskId < b.taskId ? -1 : 1);
  let warm = [...census.warm.filter(isOld).sort(byAge), ...census.warm.filter((s) => !isOld(s)).sort(byAge)];
  let starting = [...census.starting].sort(
    (a, b) => createdAt(b) - createdAt(a) || (a.taskId < b.taskId ? 1 : -1),
  );
  const notVisible = census.expected.length + census.unrecorded.length;
  const idleNow = (): number => warm.length + starting.length + notVisible;
  const oldCount = (): number => warm.filter(isOld).length;

  // 1. Excess over maxWarm, counting starting tasks (they will be warm soon). While a rollout is
  //    under way, up to maxSurge extra idle tasks are the surge, not excess.
  const surgeRoom0 = Math.min(desired.maxSurge, oldCount());
  const excess = Math.min(warm.length, Math.max(0, idleNow() - desired.maxWarm - surgeRoom0));
  for (const s of warm.slice(0, excess)) actions.push(cordonStop(s, "excess"));
  warm = warm.slice(excess);

  // 2. Over maxTasks (it was lowered): stop idle tasks, never claimed ones. Tasks already on their
  //    way out this pass count as gone for this purpose only.
  const goingAway = census.leaving.size + excess;
  let over = Math.max(0, census.total - goingAway - desired.maxTasks);
  const overWarm = Math.min(over, warm.length);
  for (const s of warm.slice(0, overWarm)) actions.push(cordonStop(s, "over-cap"));
  warm = warm.slice(overWarm);
  over -= overWarm;
  const overStarting = Math.min(over, starting.length);
  for (const s of starting.slice(0, overStarting)) actions.push(cordonStop(s, "over-cap"));
  starting = starting.slice(overStarting);

  // 3. Target: clamp(minWarm + waiting, minWarm, maxWarm), and what maxTasks leaves room for once
  //    every live non-idle task (claimed, draining, leaving) is counted.
  const target = warmTarget(desired, waiting, census.total, idleNow());

  // 4. Rollout, surge first: an old-revision warm task goes only while the warm count stays at or
  //    above target without it, i.e. once new-revision tasks have become warm to cover it.
  //    When no surge is possible (maxSurge 0, or maxTasks leaves no room) and nothing is starting,
  //    one old task is replaced in place per round instead: one fewer warm for one start, rather
  //    than a rollout that never ends.
  const oldWarm = warm.filter(isOld);
  let replace = Math.min(oldWarm.length, Math.max(0, warm.length - target));
  const canSurge = Math.min(desired.maxSurge, desired.maxTasks - census.total) > 0;
  const replacing = census.draining.some(
    (s) => s.record?.drainReason === "old-revision" || s.record?.drainReason === "drain",
  );
  if (replace === 0 && oldWarm.length > 0 && !canSurge && starting.length + notVisible === 0 && !replacing) {
    replace = 1;
  }
  for (const s of oldWarm.slice(0, replace)) actions.push(cordonStop(s, oldReason(s)));
  const replaced = new Set(oldWarm.slice(0, replace).map((s) => s.taskId));
  warm = warm.filter((s) => !replaced.has(s.taskId));

  // 5. Launches: refill to target, plus up to maxSurge new-revision tasks while old ones remain;
  //    never beyond maxTasks counting every live task (leaving ones included until ECS stops them).
  const idle = idleNow();
  const surgeRoom = Math.min(desired.maxSurge, oldCount());
  const headroom = Math.max(0, desired.maxTasks - census.total);
  const base = refillCount(target, idle, headroom);
  const surge = Math.min(
    headroom - base,
    Math.max(0, target + surgeRoom - idle) - Math.max(0, target - idle),
  );
  return {
    target,
    actions,
    idle,
    base,
    surge,
    oldWarm: oldCount(),
    drainWarm: warm.filter(isDrained).length,
  };
}

/**
 * The warm target: clamp(minWarm + waiting, minWarm, maxWarm), and what maxTasks leaves room for
 * once every live non-idle task (claimed, draining, leaving) is counted. `total` counts every live
 * pool task, `idle` the warm and starting ones among them.
 */
export function warmTarget(
  desired: Pick<DesiredState, "minWarm" | "maxWarm" | "maxTasks">,
  waiting: number,
  total: number,
  idle: number,
): number {
  const clamped = Math.min(desired.maxWarm, desired.minWarm + waiting);
  return Math.max(0, Math.min(clamped, desired.maxTasks - (total - idle)));
}

/** Tasks to start to refill `idle` up to `target`, never more than maxTasks' `headroom`. */
export function refillCount(target: number, idle: number, headroom: number): number {
  return Math.min(Math.max(0, headroom), Math.max(0, target - idle));
}

/**
 * Whether a task runs the revision new tasks get. Task definitions may be spelt as an ARN or as
 * `family:revision`; both name the same thing. A bare family (or nothing at all) cannot say which
 * revision it means, so then only a different family marks a task old: a wrong guess here would
 * replace the whole pool.
 */
export function sameRevision(a: string, b: string): boolean {
  if (a === b || a === "" || b === "") return true;
  const x = familyRevision(a);
  const y = familyRevision(b);
  if (x.revision === undefined || y.revision === undefined) return x.family === y.family;
  return x.family === y.family && x.revision === y.revision;
}

function familyRevision(td: string): { family: string; revision?: string } {
  const at = td.indexOf("task-definition/");
  const tail = at >= 0 ? td.slice(at + "task-definition/".length) : td;
  const [family = "", revision] = tail.split(":");
  return revision === undefined || revision === "" ? { family } : { family, revision };
}

function warmAt(s: Slot): number {
  return s.record?.warmAtMs ?? s.record?.createdAtMs ?? s.ecs?.createdAtMs ?? 0;
}
function createdAt(s: Slot): number {
  return s.record?.createdAtMs ?? s.ecs?.createdAtMs ?? 0;
}
