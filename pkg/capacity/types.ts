/**
 * The capacity planner's data: what it is given about the Auto Scaling group, its warm pool and
 * the cluster's container instances, and what it decides. No AWS types leak in: pkg/asg
 * translates DescribeAutoScalingGroups / DescribeWarmPool / DescribeContainerInstances into
 * these shapes and carries the actions out.
 */
import type { AsgDesired } from "../config/index.js";

/** One instance of the group or of its warm pool, as Auto Scaling reports it. */
export interface GroupInstance {
  instanceId: string;
  /** AWS LifecycleState: Pending, InService, Terminating, Warmed:Hibernated, Warmed:Pending … */
  lifecycleState: string;
  protectedFromScaleIn: boolean;
  /**
   * When the observer first saw it InService (its own clock; absent when unknown). An instance
   * InService for less than `joinGraceMs` whose ECS agent has not registered yet is still joining.
   */
  inServiceSinceMs?: number;
}

/** The warm pool's configuration (DescribeWarmPool WarmPoolConfiguration). */
export interface WarmPoolConfig {
  minSize: number;
  /** Absent or -1: the pool fills up to the group's MaxSize. */
  maxGroupPreparedCapacity?: number;
  poolState: string;
  reuseOnScaleIn: boolean;
  /** `PendingDelete` while a DeleteWarmPool is under way. */
  status?: string;
}

export interface ObservedGroup {
  name: string;
  minSize: number;
  maxSize: number;
  desiredCapacity: number;
  /** The group proper (not the warm pool). */
  instances: GroupInstance[];
  warmPool?: WarmPoolConfig;
  /** Every warm-pool instance (all DescribeWarmPool pages). */
  warmInstances: GroupInstance[];
}

/** One ECS container instance of the pool's cluster with what it holds. */
export interface ContainerInstance {
  containerInstanceArn: string;
  ec2InstanceId?: string;
  status: string;
  registered: { cpu: number; memory: number };
  remaining: { cpu: number; memory: number };
  /** Tasks placed on it (running + pending), the pool's or anyone's. */
  tasks: number;
  registeredAtMs?: number;
}

/** CPU units and MiB one pool task reserves (task-level, or the sum of its containers). */
export interface TaskSize {
  cpu: number;
  memory: number;
}

/** One pass's observation of capacity. `complete=false` ⇒ the planner writes nothing. */
export interface ObservedCapacity {
  complete: boolean;
  /** Absent when the group does not exist (or was not observed). */
  group?: ObservedGroup;
  containerInstances: ContainerInstance[];
  /** Size of the tasks the pool runs, when known (needed to derive tasks per instance). */
  taskSize?: TaskSize;
  /** Whether SetInstanceProtection can be used (false once the endpoint refused it). */
  protectionSupported: boolean;
  /**
   * Pool tasks by container instance ARN, when the caller knows where its tasks run (ECS
   * DescribeTasks `containerInstanceArn`). Given, it decides which instances host tasks, so
   * daemon tasks on every instance do not block every scale-in; absent, any task on an instance
   * (running + pending) counts.
   */
  poolTasksByInstance?: Record<string, number>;
}

/** What the task planner is aiming for this pass (pkg/plan `Plan.target` and `Plan.counts`). */
export interface TaskDemand {
  /** Warm target, already clamp(minWarm + waiting, …, maxWarm) and capped by maxTasks. */
  target: number;
  claimed: number;
  warm: number;
  starting: number;
  waiting: number;
  /** Desired-state cap on all pool tasks. */
  maxTasks: number;
  /** The task pass starts tasks now (a placement might land on an instance scale-in would pick). */
  launching: boolean;
}

/** RunTask failures by reason since the last clean launch (EcsDriver/Reconciler `runFailures`). */
export interface CapacityFailure {
  reason: string;
  count: number;
  lastAtMs: number;
}

/** Timing knobs that are not desired state. */
export interface CapacityTimings {
  /** A capacity failure older than this no longer asks for an extra instance. */
  failureWindowMs: number;
  /**
   * How long an InService instance may take to register as an ECS container instance before the
   * planner stops counting it as capacity on its way (an agent that never comes up).
   */
  joinGraceMs?: number;
}

export const DEFAULT_CAPACITY_TIMINGS: CapacityTimings = { failureWindowMs: 60_000, joinGraceMs: 120_000 };

export interface CapacityInput {
  asg: AsgDesired;
  demand: TaskDemand;
  observed: ObservedCapacity;
  failures: CapacityFailure[];
  nowMs: number;
  /** Desired state `paused`: observe and report, act on nothing. */
  paused?: boolean;
  timings?: CapacityTimings;
}

export type ScaleReason = "scale-out" | "scale-in" | "capacity-failures";

export type CapacityAction =
  /** PutWarmPool. Never carries InstanceReusePolicy: ECS groups may not reuse on scale in. */
  | {
      kind: "put-warm-pool";
      minSize: number;
      maxGroupPreparedCapacity: number;
      poolState: AsgDesired["poolState"];
      reason: "create" | "resize" | "pool-state" | "reuse-on-scale-in";
    }
  /** SetInstanceProtection, issued before a scale-in so the group can only pick empty instances. */
  | {
      kind: "set-protection";
      instanceIds: string[];
      protect: boolean;
      reason: "hosts-tasks" | "empty-victim";
    }
  /** SetDesiredCapacity; `from` is the desired capacity observed, to describe the change. */
  | { kind: "set-desired-capacity"; desiredCapacity: number; from: number; reason: ScaleReason };

export type TasksPerInstanceSource = "given" | "derived" | "unknown";

/** The numbers behind a plan, for status, metrics and tests. */
export interface CapacityNeed {
  /** Tasks the InService instances must hold: claimed + warm target (capped by maxTasks). */
  tasks: number;
  /** Tasks one more refill would start: the warm pool is sized to host them. */
  refillTasks: number;
  tasksPerInstance?: number;
  tasksPerInstanceSource: TasksPerInstanceSource;
  /** Desired capacity the plan aims for (group bounds applied), before scale-in safety. */
  desiredCapacity: number;
  /** Warm-pool size the plan aims for (MinSize = MaxGroupPreparedCapacity). */
  warmPoolSize: number;
  /** Desired capacity this pass leaves (a held scale-in keeps the observed one) plus the warm pool. */
  preparedCapacity: number;
}

export interface CapacityPlan {
  actions: CapacityAction[];
  need: CapacityNeed | null;
  /** Instances of the group and its warm pool by lifecycle state (for warmpool_asg_instances). */
  instances: Record<string, number>;
  /** Nothing was planned: why. */
  held?: "paused" | "partial-observation" | "no-group";
  /** One line a human reads in logs and status. */
  reason: string;
}
