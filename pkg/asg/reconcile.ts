/**
 * The capacity pass the reconciler runs after its task pass: observe the group, its warm pool
 * and the container instances; plan with the pure capacity planner from the task plan's target
 * and counts; carry the writes out in order (protection before a scale-in; a failed write stops
 * the rest); publish warmpool_asg_instances{state} and the actions taken.
 */
import {
  DEFAULT_CAPACITY_TIMINGS,
  isCapacityReason,
  planCapacity,
  type CapacityAction,
  type CapacityFailure,
  type CapacityPlan,
  type CapacityTimings,
  type ObservedCapacity,
} from "../capacity/index.js";
import type { AsgDesired, DesiredState } from "../config/index.js";
import type { Metrics } from "../metrics/index.js";
import type { PlanCounts } from "../plan/index.js";
import { observeCapacity } from "./observe.js";
import type { ClusterCapacityReader, GroupReader, GroupWriter } from "./types.js";

type PoolGauge = Metrics["desiredWarm"];

/**
 * The metrics a capacity pass writes. `asgDesiredCapacity` / `asgPreparedCapacity` are set
 * when the factory provides them (names proposed: warmpool_asg_desired_capacity,
 * warmpool_asg_desired_prepared_capacity).
 */
export type CapacityMetrics = Pick<Metrics, "asgInstances" | "actionsTotal"> & {
  asgDesiredCapacity?: PoolGauge;
  asgPreparedCapacity?: PoolGauge;
};

export interface CapacityLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export interface CapacityReconcilerOptions {
  pool: string;
  driver: GroupReader & GroupWriter & ClusterCapacityReader;
  metrics?: CapacityMetrics;
  log?: CapacityLog;
  timings?: CapacityTimings;
  /**
   * A pass within this long of the previous one, with the same demand (claimed + target, and
   * no new capacity failure), returns the previous result instead of observing again: the
   * event path may run task passes many times a second, and Auto Scaling's reads are slow
   * and rationed. A change of demand always runs at once. Default 2,000 ms; 0 disables.
   */
  minIntervalMs?: number;
}

/** What the task pass hands over: its desired state, plan target and counts, RunTask failures. */
export interface CapacityPassInput {
  desired: DesiredState;
  /**
   * pkg/plan's Plan (target, counts, whether it runs tasks, and whether it was held). A task plan
   * held for a partial observation makes the capacity pass write nothing either.
   */
  plan: { target: number; counts: PlanCounts; actions: readonly { kind: string }[]; held?: string };
  /** Task definition ARN new tasks run: its CPU/memory derive tasks per instance. */
  taskDefinition?: string;
  /** RunTask failures by reason since the last clean launch (the reconciler's `runFailures`). */
  failures: CapacityFailure[];
  nowMs?: number;
  /** Pool tasks by container instance ARN, when known (see ObservedCapacity.poolTasksByInstance). */
  poolTasksByInstance?: Record<string, number>;
  /** Throws when the lease is lost: checked before every write. */
  assertMayAct?: () => void;
}

/** For `status` (JSON) and logs. */
export interface CapacityPassResult {
  groupName: string;
  plan: CapacityPlan;
  done: CapacityAction[];
  errors: string[];
  capacityFailures: number;
  /** True when this is the previous pass's result (minIntervalMs, demand unchanged). */
  reused?: boolean;
}

export class CapacityReconciler {
  private readonly seenStates = new Set<string>();
  private readonly inServiceSince = new Map<string, number>();
  private last?: { atMs: number; key: string; result: CapacityPassResult };

  constructor(private readonly o: CapacityReconcilerOptions) {}

  async observe(asg: AsgDesired, taskDefinition?: string): ReturnType<typeof observeCapacity> {
    // The task size is read even when tasksPerInstance is given: free room decides whether a
    // capacity failure still means a shortfall. One call per revision (cached).
    const o = await observeCapacity(this.o.driver, asg.groupName, taskDefinition);
    // When each instance was first seen InService (Auto Scaling reports no such time): the
    // planner tells an instance whose ECS agent is still joining from one whose agent is down.
    const group = o.observed.group;
    if (group) {
      const now = Date.now();
      const seen = new Set<string>();
      for (const i of group.instances) {
        if (i.lifecycleState !== "InService") continue;
        seen.add(i.instanceId);
        if (!this.inServiceSince.has(i.instanceId)) this.inServiceSince.set(i.instanceId, now);
        i.inServiceSinceMs = this.inServiceSince.get(i.instanceId) as number;
      }
      for (const id of this.inServiceSince.keys()) if (!seen.has(id)) this.inServiceSince.delete(id);
    }
    return o;
  }

  plan(input: CapacityPassInput, observed: ObservedCapacity): CapacityPlan {
    const asg = input.desired.asg as AsgDesired;
    const c = input.plan.counts;
    return planCapacity({
      asg,
      demand: {
        target: input.plan.target,
        claimed: c.claimed,
        warm: c.warm,
        starting: c.starting,
        waiting: c.waiting,
        maxTasks: input.desired.maxTasks,
        launching: input.plan.actions.some((a) => a.kind === "run"),
      },
      observed: {
        ...observed,
        ...(input.plan.held === "partial-observation" ? { complete: false } : {}),
        ...(input.poolTasksByInstance ? { poolTasksByInstance: input.poolTasksByInstance } : {}),
      },
      failures: input.failures,
      nowMs: input.nowMs ?? Date.now(),
      paused: input.desired.paused,
      timings: this.o.timings ?? DEFAULT_CAPACITY_TIMINGS,
    });
  }

  /** Carries the actions out in order; the first failure stops the rest (a scale-in needs its protection). */
  async act(
    groupName: string,
    actions: CapacityAction[],
    assertMayAct?: () => void,
  ): Promise<{ done: CapacityAction[]; errors: string[] }> {
    const done: CapacityAction[] = [];
    for (const a of actions) {
      assertMayAct?.();
      try {
        if (a.kind === "put-warm-pool") {
          await this.o.driver.putWarmPool({
            groupName,
            minSize: a.minSize,
            maxGroupPreparedCapacity: a.maxGroupPreparedCapacity,
            poolState: a.poolState,
          });
        } else if (a.kind === "set-desired-capacity") {
          await this.o.driver.setDesiredCapacity(groupName, a.desiredCapacity);
        } else {
          await this.o.driver.setInstanceProtection(groupName, a.instanceIds, a.protect);
        }
      } catch (err) {
        const msg = `${a.kind} (${a.reason}) on ${groupName}: ${errText(err)}`;
        return { done, errors: [msg] };
      }
      done.push(a);
      this.o.metrics?.actionsTotal.inc({ pool: this.o.pool, action: a.kind, reason: a.reason });
    }
    return { done, errors: [] };
  }

  /** One capacity pass; undefined when desired state has no `asg` block. Never throws but for a lost lease. */
  async reconcile(input: CapacityPassInput): Promise<CapacityPassResult | undefined> {
    const asg = input.desired.asg;
    if (!asg) return undefined;
    const now = performance.now();
    const key = JSON.stringify([
      asg,
      input.desired.paused,
      input.desired.maxTasks,
      input.plan.target,
      input.plan.counts.claimed,
      input.plan.counts.waiting,
      input.failures,
    ]);
    const minInterval = this.o.minIntervalMs ?? 2_000;
    const last = this.last;
    if (last && last.key === key && now - last.atMs < minInterval && last.result.errors.length === 0) {
      return { ...last.result, done: [], reused: true };
    }
    const { observed, errors } = await this.observe(asg, input.taskDefinition);
    const plan = this.plan(input, observed);
    this.publish(plan);
    const acted =
      plan.actions.length > 0 ? await this.act(asg.groupName, plan.actions, input.assertMayAct) : undefined;
    const result: CapacityPassResult = {
      groupName: asg.groupName,
      plan,
      done: acted?.done ?? [],
      errors: [...errors, ...(acted?.errors ?? [])],
      capacityFailures: input.failures.reduce((n, f) => n + (isCapacityReason(f.reason) ? f.count : 0), 0),
    };
    this.last = { atMs: now, key, result };
    if (result.done.length > 0 || result.errors.length > 0) {
      const line = { group: asg.groupName, done: result.done.map((a) => a.kind), errors: result.errors };
      if (result.errors.length > 0) this.o.log?.warn(line, plan.reason);
      else this.o.log?.info(line, plan.reason);
    }
    return result;
  }

  private publish(plan: CapacityPlan): void {
    const m = this.o.metrics;
    if (!m) return;
    const pool = this.o.pool;
    for (const s of Object.keys(plan.instances)) this.seenStates.add(s);
    for (const state of this.seenStates) m.asgInstances.set({ pool, state }, plan.instances[state] ?? 0);
    if (plan.need) {
      m.asgDesiredCapacity?.set({ pool }, plan.need.desiredCapacity);
      m.asgPreparedCapacity?.set({ pool }, plan.need.preparedCapacity);
    }
  }
}

function errText(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = err.cause instanceof Error ? `: ${err.cause.name}: ${err.cause.message}` : "";
  return `${err.message}${cause}`;
}
