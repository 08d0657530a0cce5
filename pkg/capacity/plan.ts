/**
 * The capacity planner: a pure function of (desired asg block, the task plan's demand, the
 * observed group + warm pool + container instances, recent capacity failures, now) → the Auto
 * Scaling writes of one pass and why. No I/O and no clock but `nowMs`.
 *
 * Sizing (docs/capacity.md):
 *  - InService instances host claimed + warm target tasks (the target already counts waiting
 *    claims), plus `headroomInstances`: desired = ceil(tasks / tasksPerInstance) + headroom.
 *  - The warm pool holds the next refill: ceil(min(target, maxTasks − tasks) / tasksPerInstance)
 *    hibernated instances, at least `minWarmInstances`, and desired + pool at most
 *    `maxPreparedCapacity`. A burst that needs new instances then resumes them (~15 s) instead
 *    of cold-booting (~180 s), and Auto Scaling refills the pool behind it.
 *  - The pool is written as MinSize = MaxGroupPreparedCapacity = size, which pins its size
 *    whatever the desired capacity (size = max(MinSize, MaxGroupPreparedCapacity − desired)).
 *  - RESOURCE:* / no-container-instance failures newer than the newest instance, with nothing
 *    Pending and no room left on any instance, ask for one instance beyond what is InService:
 *    the estimate was short.
 * Writes happen only when the observation differs from the plan: zero writes at steady state.
 * ReuseOnScaleIn is never set (ECS groups may not); a pool found with it is rewritten without.
 */
import { isCapacityReason, isSlotReason } from "./failures.js";
import { planScaleIn } from "./scale-in.js";
import { slots, tasksPerInstance } from "./tasks-per-instance.js";
import {
  DEFAULT_CAPACITY_TIMINGS,
  type CapacityAction,
  type CapacityInput,
  type CapacityNeed,
  type CapacityPlan,
  type ObservedGroup,
  type ScaleReason,
} from "./types.js";

export function planCapacity(input: CapacityInput): CapacityPlan {
  const { asg, demand, observed } = input;
  const timings = input.timings ?? DEFAULT_CAPACITY_TIMINGS;
  const group = observed.group;
  const instances = countStates(group);
  if (!observed.complete) {
    return {
      actions: [],
      need: null,
      instances,
      held: "partial-observation",
      reason: "capacity observation incomplete: no Auto Scaling write",
    };
  }
  if (!group) {
    return {
      actions: [],
      need: null,
      instances,
      held: "no-group",
      reason: `Auto Scaling group ${asg.groupName} not found: nothing sized`,
    };
  }

  const notes: string[] = [];
  const tpi = tasksPerInstance(asg.tasksPerInstance, observed.taskSize, observed.containerInstances);
  const tasks = Math.max(0, Math.min(demand.maxTasks, demand.claimed + demand.target));
  const refillTasks = Math.max(0, Math.min(demand.target, demand.maxTasks - tasks));
  const inService = group.instances.filter((i) => i.lifecycleState === "InService").length;
  const pending = group.instances.filter((i) => i.lifecycleState.startsWith("Pending")).length;

  let wanted: number;
  let prepared: number;
  let scaleReason: ScaleReason = "scale-out";
  if (tpi.value !== undefined) {
    wanted = Math.ceil(tasks / tpi.value) + asg.headroomInstances;
    prepared = Math.ceil(refillTasks / tpi.value);
  } else {
    // Registered resources become known once one instance is in: bring one in; the warm pool is
    // sized (once, with the computed values) when they are.
    wanted = tasks > 0 ? Math.max(1, group.desiredCapacity) : group.desiredCapacity;
    prepared = group.warmPool?.minSize ?? asg.minWarmInstances;
    notes.push(`tasks per instance unknown (${tpi.why ?? "?"})`);
  }

  const shortfall = recentShortfall(input, timings.failureWindowMs, tasks);
  // An InService instance whose ECS agent has not registered yet is capacity on its way, like a
  // Pending one: failures from before it joined say nothing about what the group holds.
  const registered = new Set(
    observed.containerInstances.flatMap((c) => (c.ec2InstanceId ? [c.ec2InstanceId] : [])),
  );
  const joinGraceMs = timings.joinGraceMs ?? DEFAULT_CAPACITY_TIMINGS.joinGraceMs ?? 0;
  const joining = group.instances.filter(
    (i) =>
      i.lifecycleState === "InService" &&
      !registered.has(i.instanceId) &&
      i.inServiceSinceMs !== undefined &&
      input.nowMs - i.inServiceSinceMs < joinGraceMs,
  ).length;
  // Only a settled group (nothing Pending or joining, no scale-in under way) is short of what it holds.
  if (
    shortfall &&
    pending === 0 &&
    joining === 0 &&
    group.desiredCapacity === inService &&
    wanted <= inService
  ) {
    wanted = inService + 1;
    scaleReason = "capacity-failures";
    notes.push(`${shortfall} capacity failure(s) since the newest instance: one instance more`);
  }

  const desiredCapacity = clamp(wanted, group.minSize, group.maxSize);
  if (desiredCapacity < wanted) notes.push(`capped by MaxSize ${group.maxSize}`);
  // The desired capacity this pass leaves the group at: a held scale-in keeps the observed one.
  const actions: CapacityAction[] = [];
  const done: string[] = [];
  let effective = group.desiredCapacity;
  if (desiredCapacity > group.desiredCapacity) {
    actions.push({
      kind: "set-desired-capacity",
      desiredCapacity,
      from: group.desiredCapacity,
      reason: scaleReason,
    });
    done.push(`${scaleReason} ${group.desiredCapacity}→${desiredCapacity}`);
    effective = desiredCapacity;
  } else if (desiredCapacity < group.desiredCapacity) {
    const s = planScaleIn(
      group,
      observed.containerInstances,
      demand,
      desiredCapacity,
      observed.protectionSupported,
      observed.poolTasksByInstance,
    );
    actions.push(...s.actions);
    done.push(s.note);
    effective = s.to;
  }
  // Room under maxPreparedCapacity is counted from that desired capacity, so a held scale-in
  // does not resize the pool back and forth, and a done one frees the room in the same pass.
  const cap = asg.maxPreparedCapacity;
  const warmPoolSize = Math.max(
    asg.minWarmInstances,
    cap === undefined ? prepared : Math.min(prepared, cap - effective),
  );
  const need: CapacityNeed = {
    tasks,
    refillTasks,
    tasksPerInstanceSource: tpi.source,
    ...(tpi.value !== undefined ? { tasksPerInstance: tpi.value } : {}),
    desiredCapacity,
    warmPoolSize,
    preparedCapacity: effective + warmPoolSize,
  };
  const summary =
    `need ${tasks} task(s) + refill ${refillTasks} at ${tpi.value ?? "?"}/instance (${tpi.source}): ` +
    `desired ${desiredCapacity} (observed ${group.desiredCapacity}, ${inService} InService), ` +
    `warm pool ${warmPoolSize} ${asg.poolState}${notes.length ? `; ${notes.join("; ")}` : ""}`;
  if (input.paused) {
    return { actions: [], need, instances, held: "paused", reason: `paused: no action; ${summary}` };
  }

  const wp = tpi.value === undefined ? "unsized" : warmPoolAction(group, asg.poolState, warmPoolSize);
  if (wp === "unsized") done.push("warm pool waits until tasks per instance is known");
  else if (wp === "pending-delete") done.push("warm pool is being deleted: PutWarmPool waits");
  else if (wp) {
    actions.push(wp);
    done.push(`put-warm-pool ${wp.reason} size ${warmPoolSize} ${asg.poolState}`);
  }
  return { actions, need, instances, reason: `${done.length ? done.join(", ") : "steady"}; ${summary}` };
}

function warmPoolAction(
  group: ObservedGroup,
  poolState: CapacityInput["asg"]["poolState"],
  size: number,
): CapacityAction | "pending-delete" | undefined {
  const wp = group.warmPool;
  const put = (reason: Extract<CapacityAction, { kind: "put-warm-pool" }>["reason"]): CapacityAction => ({
    kind: "put-warm-pool",
    minSize: size,
    maxGroupPreparedCapacity: size,
    poolState,
    reason,
  });
  if (!wp) return put("create");
  if (wp.status === "PendingDelete") return "pending-delete";
  if (wp.reuseOnScaleIn) return put("reuse-on-scale-in");
  if (wp.poolState !== poolState) return put("pool-state");
  if (wp.minSize !== size || (wp.maxGroupPreparedCapacity ?? -1) !== size) return put("resize");
  return undefined;
}

/**
 * Capacity failures in the window and newer than the newest registered instance (0: none) — and
 * only while tasks the plan wants are still unplaced and no ACTIVE instance has room for one
 * more: an instance that registered just as RunTask failed has room (or already took them), and
 * the failure says nothing about the estimate.
 */
function recentShortfall(input: CapacityInput, windowMs: number, tasks: number): number {
  const { taskSize, containerInstances } = input.observed;
  const d = input.demand;
  // Every task the plan wants is already placed: whatever failed before is no shortfall now.
  if (d.claimed + d.warm + d.starting >= tasks) return 0;
  // CPU/memory room on an instance answers a CPU/memory failure, not an ENI or port one.
  const roomBySize =
    taskSize !== undefined &&
    containerInstances.some((c) => c.status === "ACTIVE" && slots(c.remaining, taskSize) > 0);
  const newest = Math.max(0, ...containerInstances.map((c) => c.registeredAtMs ?? 0));
  const since = Math.max(input.nowMs - windowMs, newest);
  return input.failures
    .filter((f) => isCapacityReason(f.reason) && f.lastAtMs >= since)
    .filter((f) => !(roomBySize && !isSlotReason(f.reason)))
    .reduce((n, f) => n + f.count, 0);
}

function countStates(group: ObservedGroup | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  for (const i of [...(group?.instances ?? []), ...(group?.warmInstances ?? [])]) {
    out[i.lifecycleState] = (out[i.lifecycleState] ?? 0) + 1;
  }
  return out;
}

function clamp(n: number, lo: number, hi: number): number {
  return Math.max(lo, Math.min(hi, n));
}
