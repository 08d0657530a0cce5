/** Builders for capacity-planner inputs: a group with n InService instances, each a container instance. */
import type { AsgDesired } from "../../pkg/config/index.js";
import type {
  CapacityInput,
  ContainerInstance,
  GroupInstance,
  ObservedCapacity,
  ObservedGroup,
  TaskDemand,
} from "../../pkg/capacity/index.js";

export const NOW = 1_000_000;

export const ASG: AsgDesired = {
  groupName: "g",
  poolState: "Hibernated",
  minWarmInstances: 0,
  headroomInstances: 0,
};

export function inService(
  n: number,
  opts: { protectedIds?: string[]; prefix?: string } = {},
): GroupInstance[] {
  return Array.from({ length: n }, (_, k) => {
    const instanceId = `${opts.prefix ?? "i-"}${k}`;
    return {
      instanceId,
      lifecycleState: "InService",
      protectedFromScaleIn: opts.protectedIds?.includes(instanceId) ?? false,
    };
  });
}

export function warmed(n: number, state = "Warmed:Hibernated"): GroupInstance[] {
  return Array.from({ length: n }, (_, k) => ({
    instanceId: `w-${k}`,
    lifecycleState: state,
    protectedFromScaleIn: false,
  }));
}

/** Container instances for the group's InService instances; `tasks[k]` tasks on instance k. */
export function cisFor(
  group: ObservedGroup,
  tasks: number[] = [],
  registeredAtMs = NOW - 600_000,
): ContainerInstance[] {
  return group.instances
    .filter((i) => i.lifecycleState === "InService")
    .map((i, k) => ({
      containerInstanceArn: `arn:ci/${i.instanceId}`,
      ec2InstanceId: i.instanceId,
      status: "ACTIVE",
      registered: { cpu: 2048, memory: 4096 },
      remaining: { cpu: 2048 - 512 * (tasks[k] ?? 0), memory: 4096 - 1024 * (tasks[k] ?? 0) },
      tasks: tasks[k] ?? 0,
      registeredAtMs,
    }));
}

export function group(over: Partial<ObservedGroup> = {}): ObservedGroup {
  return {
    name: "g",
    minSize: 0,
    maxSize: 20,
    desiredCapacity: over.instances?.length ?? 0,
    instances: [],
    warmPool: { minSize: 0, maxGroupPreparedCapacity: 0, poolState: "Hibernated", reuseOnScaleIn: false },
    warmInstances: [],
    ...over,
  };
}

export function demand(over: Partial<TaskDemand> = {}): TaskDemand {
  return {
    target: 0,
    claimed: 0,
    warm: 0,
    starting: 0,
    waiting: 0,
    maxTasks: 100,
    launching: false,
    ...over,
  };
}

export function observed(
  g: ObservedGroup | undefined,
  over: Partial<ObservedCapacity> = {},
): ObservedCapacity {
  return {
    complete: true,
    ...(g ? { group: g } : {}),
    containerInstances: g ? cisFor(g) : [],
    taskSize: { cpu: 512, memory: 1024 },
    protectionSupported: true,
    ...over,
  };
}

export function input(over: Partial<CapacityInput> = {}): CapacityInput {
  return { asg: ASG, demand: demand(), observed: observed(group()), failures: [], nowMs: NOW, ...over };
}
