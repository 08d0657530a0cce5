/**
 * Which RunTask outcomes mean "no room on the instances" rather than a fault of the task: the
 * RESOURCE:* failures ECS reports per task, and the InvalidParameterException it throws when
 * the cluster has no container instance at all. Those feed the capacity plan (an instance more)
 * instead of RunTask retries.
 */

/** The reason under which "No Container Instances were found in your cluster" is counted. */
export const NO_CONTAINER_INSTANCE = "NO_CONTAINER_INSTANCE";

export function isCapacityReason(reason: string): boolean {
  return isResourceSizeReason(reason) || isSlotReason(reason) || reason === NO_CONTAINER_INSTANCE;
}

/** CPU or memory: an instance with room for one more task of this size would have taken it. */
export function isResourceSizeReason(reason: string): boolean {
  return reason.startsWith("RESOURCE:CPU") || reason.startsWith("RESOURCE:MEMORY");
}

/**
 * No free ENI (awsvpc tasks without ENI trunking) or host port: the instances may have CPU and
 * memory to spare, yet cannot take one more task.
 */
export function isSlotReason(reason: string): boolean {
  return reason.startsWith("RESOURCE:ENI") || reason.startsWith("RESOURCE:PORTS");
}

/**
 * Maps a RunTask error to a capacity failure reason, or undefined when it is not one. The
 * reconciler records the result beside the per-task failures it already counts.
 */
export function capacityReasonOfError(err: unknown): string | undefined {
  const e = (err ?? {}) as { name?: string; message?: string };
  if (e.name === "InvalidParameterException" && /no container instances/i.test(e.message ?? "")) {
    return NO_CONTAINER_INSTANCE;
  }
  return undefined;
}
