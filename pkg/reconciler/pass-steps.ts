/**
 * Steps of a pass that only read what the pass decided: the capacity pass it hands the task
 * plan to, and the pool gauges it publishes.
 */
import type { CapacityPassResult, CapacityReconciler } from "../asg/index.js";
import type { CapacityFailure } from "../capacity/index.js";
import type { DesiredState } from "../config/index.js";
import { containerInstanceOf } from "../ecs/index.js";
import type { Metrics } from "../metrics/index.js";
import type { EcsTask, Observed, Plan } from "../plan/index.js";
import { oldestIdleSeconds } from "./act.js";
import type { StatusSnapshot } from "./status.js";

export interface CapacityStepInput {
  desired: DesiredState;
  planned: Plan;
  revision: string;
  observed: Observed;
  /** RunTask failures as they stand after this pass's launches. */
  failures: CapacityFailure[];
  assertMayAct: () => void;
}

/** The Auto Scaling pass after the task pass (undefined when the desired state names no group). */
export function runCapacityPass(
  capacity: CapacityReconciler,
  i: CapacityStepInput,
): Promise<CapacityPassResult | undefined> {
  const byInstance = i.observed.complete ? tasksByInstance(i.observed.ecs) : undefined;
  return capacity.reconcile({
    desired: i.desired,
    plan: i.planned,
    taskDefinition: i.revision,
    failures: i.failures,
    ...(byInstance ? { poolTasksByInstance: byInstance } : {}),
    assertMayAct: i.assertMayAct,
  });
}

/** The short form kept in `status.capacity` beside the full result in `status.asg`. */
export function capacitySummary(cap: CapacityPassResult): NonNullable<StatusSnapshot["capacity"]> {
  return {
    groupName: cap.groupName,
    reason: cap.plan.reason,
    done: cap.done.map((a) => a.kind),
    errors: cap.errors,
  };
}

/**
 * Live pool tasks by the container instance hosting them, for the capacity pass (only pool tasks
 * then keep an instance from scale-in). Undefined when a live task's host is not known (Fargate,
 * or not placed yet): an incomplete map could let an instance that hosts a pool task go.
 */
export function tasksByInstance(tasks: readonly EcsTask[]): Record<string, number> | undefined {
  const out: Record<string, number> = {};
  for (const t of tasks) {
    if (t.lastStatus === "STOPPED") continue;
    const ci = containerInstanceOf(t);
    if (!ci) return undefined;
    out[ci] = (out[ci] ?? 0) + 1;
  }
  return out;
}

/** The pool gauges of one pass: counts by state, target, waiting, utilization, oldest idle. */
export function publishPassMetrics(m: Metrics, pool: string, p: Plan, observed: Observed, now: number): void {
  const c = p.counts;
  m.tasks.set({ pool, state: "starting" }, c.starting);
  m.tasks.set({ pool, state: "warm" }, c.warm);
  m.tasks.set({ pool, state: "claimed" }, c.claimed);
  m.tasks.set({ pool, state: "draining" }, c.draining);
  // Live in ECS, started before this Redis state, no record: held, never stopped (docs/planner.md).
  m.tasks.set({ pool, state: "unaccounted" }, c.unaccounted ?? 0);
  m.desiredWarm.set({ pool }, p.target);
  m.rolloutOutdated.set({ pool }, c.outdated ?? 0);
  m.claimsWaiting.set({ pool }, c.waiting);
  const live = c.starting + c.warm + c.claimed;
  m.utilization.set({ pool }, live > 0 ? c.claimed / live : 0);
  m.oldestIdleSeconds.set({ pool }, oldestIdleSeconds(observed.records, now));
}

/** Planned actions by kind (a run counts its tasks), for `status.lastPass.actions`. */
export function countActions(p: Plan | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  for (const a of p?.actions ?? []) {
    const n = a.kind === "run" ? a.count : 1;
    out[a.kind] = (out[a.kind] ?? 0) + n;
  }
  return out;
}

/** An error's message, with its cause's when it wraps one. */
export function errMsg(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  return err.cause instanceof Error ? `${err.message}: ${err.cause.message}` : err.message;
}
