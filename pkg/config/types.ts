/**
 * Desired state (DESIGN §5), the JSON that on-call writes to `wp:{pool}:config`.
 * Validation lives beside this file; this is the shape every consumer reads.
 */
export interface AsgDesired {
  /** Auto Scaling group that hosts the pool's tasks. */
  groupName: string;
  /** Tasks one instance holds; derived from task definition and instance resources when absent. */
  tasksPerInstance?: number;
  poolState: "Hibernated" | "Stopped" | "Running";
  /** Bounds for the group's warm pool. */
  minWarmInstances: number;
  maxPreparedCapacity?: number;
  /** Extra instances kept beyond the computed need. */
  headroomInstances: number;
}

export interface DesiredState {
  minWarm: number;
  maxWarm: number;
  replenishThreshold: number;
  /** Hard cap on all pool tasks, claimed included. */
  maxTasks: number;
  paused: boolean;
  leaseSeconds: number;
  /** Task definition (family, family:revision or ARN) new tasks run; flag default when absent. */
  taskDefinition?: string;
  /** Rollout: tasks of the new revision started beyond target while old warm ones drain. */
  maxSurge: number;
  asg?: AsgDesired;
}

export const DEFAULT_DESIRED: DesiredState = {
  minWarm: 5,
  maxWarm: 20,
  replenishThreshold: 3,
  maxTasks: 100,
  paused: false,
  leaseSeconds: 300,
  maxSurge: 2,
};
