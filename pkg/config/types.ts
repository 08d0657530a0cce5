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

/** Parameters of `policy: "adaptive"` (pkg/policy, docs/adaptive-policy.md). */
export interface AdaptiveDesired {
  /** Arrival-rate smoothing window. */
  windowSeconds: number;
  /** Share of claims that should find a warm task, strictly between 0 and 1. */
  targetHitRate: number;
  /** A lower adaptive target takes effect only after every higher one is this old. */
  scaleDownDelaySeconds: number;
}

/** How the warm target is chosen: `static` uses minWarm as written, `adaptive` sizes from demand. */
export type WarmPolicy = "static" | "adaptive";

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
  /** `static` (minWarm as written) or `adaptive` (minWarm/maxWarm are floor and ceiling). */
  policy: WarmPolicy;
  /** Always present after validation: a missing block or field takes DEFAULT_ADAPTIVE. */
  adaptive: AdaptiveDesired;
  asg?: AsgDesired;
}

export const DEFAULT_ADAPTIVE: AdaptiveDesired = {
  windowSeconds: 120,
  targetHitRate: 0.995,
  scaleDownDelaySeconds: 600,
};

export const DEFAULT_DESIRED: DesiredState = {
  minWarm: 5,
  maxWarm: 20,
  replenishThreshold: 3,
  maxTasks: 100,
  paused: false,
  leaseSeconds: 300,
  maxSurge: 2,
  policy: "static",
  adaptive: { ...DEFAULT_ADAPTIVE },
};
