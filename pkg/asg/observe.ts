/**
 * One observation of capacity: the group, every page of its warm pool, the cluster's container
 * instances, and the size of the tasks the pool runs. A failure of the first three makes the
 * observation partial (the planner then writes nothing); not knowing the task size only leaves
 * tasks per instance to be given or learnt later.
 */
import type { ObservedCapacity } from "../capacity/index.js";
import type { ClusterCapacityReader, GroupReader, GroupWriter } from "./types.js";

export interface CapacityObservation {
  observed: ObservedCapacity;
  errors: string[];
}

export async function observeCapacity(
  driver: GroupReader & ClusterCapacityReader & Pick<GroupWriter, "protectionSupported">,
  groupName: string,
  taskDefinition: string | undefined,
): Promise<CapacityObservation> {
  const errors: string[] = [];
  const note =
    (what: string) =>
    (err: unknown): undefined => {
      errors.push(`${what}: ${err instanceof Error ? err.message : String(err)}`);
      return undefined;
    };
  const [group, pool, cis, size] = await Promise.all([
    driver.describeGroup(groupName).catch(note(`describing group ${groupName}`)),
    driver.describeWarmPool(groupName).catch(note(`describing the warm pool of ${groupName}`)),
    driver.containerInstances().catch(note("describing container instances")),
    taskDefinition ? driver.taskSize(taskDefinition).catch(note(`describing ${taskDefinition}`)) : undefined,
  ]);
  const groupMissing = errors.length === 0 && group === undefined;
  const complete = group !== undefined && pool !== undefined && cis !== undefined;
  const observed: ObservedCapacity = {
    complete: complete || groupMissing,
    containerInstances: cis ?? [],
    protectionSupported: driver.protectionSupported,
    ...(size ? { taskSize: size } : {}),
  };
  if (group && pool) {
    observed.group = {
      ...group,
      warmInstances: pool.instances,
      ...(pool.config ? { warmPool: pool.config } : {}),
    };
  }
  return { observed, errors };
}
