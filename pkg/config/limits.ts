/**
 * Bounds of every desired-state field. A value outside them is far more likely a typo (an extra
 * zero, seconds written as milliseconds) than an intent, so it is rejected with the bound named.
 * docs/desired-state.md lists the same numbers; the tests read them from here.
 */
export const LIMITS = {
  /** Hard cap on all pool tasks; 10,000 is already two orders above the origin design's 20. */
  maxTasks: { min: 0, max: 10_000 },
  minWarm: { min: 0, max: 10_000 },
  maxWarm: { min: 0, max: 10_000 },
  replenishThreshold: { min: 0, max: 10_000 },
  /** A lease shorter than 10 s cannot survive one missed heartbeat; longer than a day is a leak. */
  leaseSeconds: { min: 10, max: 86_400 },
  maxSurge: { min: 0, max: 1_000 },
  /** ECS: family names are at most 255 characters, ARNs at most 2,048. */
  taskDefinitionLength: { min: 1, max: 2_048 },
  /**
   * `adaptive`: a window under 1 s measures noise and over an hour misses a burst; a scale-down
   * delay over a day holds a peak long after it means anything. targetHitRate is open (0, 1).
   */
  adaptive: {
    windowSeconds: { min: 1, max: 3_600 },
    scaleDownDelaySeconds: { min: 0, max: 86_400 },
  },
  asg: {
    groupNameLength: { min: 1, max: 255 },
    tasksPerInstance: { min: 1, max: 1_000 },
    minWarmInstances: { min: 0, max: 10_000 },
    maxPreparedCapacity: { min: 0, max: 10_000 },
    headroomInstances: { min: 0, max: 1_000 },
  },
} as const;

/** Task definition as RunTask accepts it: `family`, `family:revision` or a task definition ARN. */
export const TASK_DEFINITION =
  /^(?:[A-Za-z0-9_-]{1,255}(?::[1-9][0-9]{0,9})?|arn:aws[a-z-]*:ecs:[a-z0-9-]+:[0-9]{12}:task-definition\/[A-Za-z0-9_-]{1,255}(?::[1-9][0-9]{0,9})?)$/;

export const ASG_POOL_STATES = ["Hibernated", "Stopped", "Running"] as const;

export const WARM_POLICIES = ["static", "adaptive"] as const;
