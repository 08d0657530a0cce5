/**
 * Scale-in safety. Auto Scaling, not us, picks which instances a lower desired capacity
 * terminates; the only way to keep it away from an instance that hosts a claimed task is to
 * leave it nothing else to pick. So a scale-in by k happens only when:
 *  - no task is starting or waiting this pass (a placement could land on a would-be victim),
 *  - no instance is still Pending and no earlier scale-in is still under way (the group is
 *    settled, so the same empty instance is never counted twice),
 *  - every InService instance that hosts any task (claimed or warm: one claim away from being
 *    claimed) is protected from scale in — protected here first when it is not,
 *  - at least k unprotected empty instances remain to be picked — unprotected here when needed.
 * Without SetInstanceProtection (the endpoint refused it), a scale-in happens only when no
 * instance that hosts a task is unprotected, and never by more than the unprotected empty ones.
 */
import type { CapacityAction, ContainerInstance, ObservedGroup, TaskDemand } from "./types.js";

export interface ScaleIn {
  actions: CapacityAction[];
  /** Desired capacity after this pass (≥ the wanted one; = `from` when held). */
  to: number;
  note: string;
}

export function planScaleIn(
  group: ObservedGroup,
  containerInstances: ContainerInstance[],
  demand: TaskDemand,
  wanted: number,
  protectionSupported: boolean,
  poolTasksByInstance?: Record<string, number>,
): ScaleIn {
  const from = group.desiredCapacity;
  const hold = (why: string): ScaleIn => ({
    actions: [],
    to: from,
    note: `scale-in ${from}→${wanted} held: ${why}`,
  });
  if (demand.launching || demand.starting > 0 || demand.waiting > 0) {
    return hold("tasks are starting or waiting (a placement could land on a victim)");
  }
  const pending = group.instances.filter((i) => i.lifecycleState.startsWith("Pending")).length;
  if (pending > 0) return hold(`${pending} instance(s) still Pending`);
  const inServiceCount = group.instances.filter((i) => i.lifecycleState === "InService").length;
  if (inServiceCount > from)
    return hold(`the last scale-in is under way (${inServiceCount} InService > ${from})`);

  const tasksOn = (c: ContainerInstance): number =>
    poolTasksByInstance ? (poolTasksByInstance[c.containerInstanceArn] ?? 0) : c.tasks;
  const hosting = new Set(
    containerInstances.filter((c) => tasksOn(c) > 0 && c.ec2InstanceId).map((c) => c.ec2InstanceId as string),
  );
  const inService = group.instances.filter((i) => i.lifecycleState === "InService");
  const hostingUnprotected = inService.filter((i) => hosting.has(i.instanceId) && !i.protectedFromScaleIn);
  const freeUnprotected = inService.filter((i) => !hosting.has(i.instanceId) && !i.protectedFromScaleIn);
  const freeProtected = inService.filter((i) => !hosting.has(i.instanceId) && i.protectedFromScaleIn);
  const k = from - wanted;

  if (!protectionSupported) {
    if (hostingUnprotected.length > 0) {
      return hold(
        `${hostingUnprotected.length} unprotected instance(s) host tasks and scale-in protection is unavailable`,
      );
    }
    const n = Math.min(k, freeUnprotected.length);
    if (n === 0) return hold("no unprotected empty instance");
    return {
      actions: [{ kind: "set-desired-capacity", desiredCapacity: from - n, from, reason: "scale-in" }],
      to: from - n,
      note: `scale-in ${from}→${from - n} (only empty instances can be picked)`,
    };
  }

  const n = Math.min(k, freeUnprotected.length + freeProtected.length);
  if (n === 0) return hold("every InService instance hosts tasks");
  const actions: CapacityAction[] = [];
  if (hostingUnprotected.length > 0) {
    actions.push({
      kind: "set-protection",
      instanceIds: hostingUnprotected.map((i) => i.instanceId).sort(),
      protect: true,
      reason: "hosts-tasks",
    });
  }
  const unprotect = freeProtected.slice(0, Math.max(0, n - freeUnprotected.length));
  if (unprotect.length > 0) {
    actions.push({
      kind: "set-protection",
      instanceIds: unprotect.map((i) => i.instanceId).sort(),
      protect: false,
      reason: "empty-victim",
    });
  }
  actions.push({ kind: "set-desired-capacity", desiredCapacity: from - n, from, reason: "scale-in" });
  const protectedNote = hostingUnprotected.length
    ? `, ${hostingUnprotected.length} hosting instance(s) protected first`
    : "";
  return { actions, to: from - n, note: `scale-in ${from}→${from - n} over empty instances${protectedNote}` };
}
