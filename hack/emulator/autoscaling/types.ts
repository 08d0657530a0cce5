/**
 * The Auto Scaling part of the emulator: groups, their instances and warm pools. Lifecycle
 * states and field names follow autoscaling/2011-01-01/service-2.json.
 */
import type { Latency } from "../options.js";

export type PoolState = "Stopped" | "Running" | "Hibernated";

/** How long instance transitions take (ms, before `timeScale`). */
export interface AutoScalingTimings {
  /** Pending → InService for a fresh launch (boot, user data, ECS agent). */
  coldLaunch: Latency;
  /** Warmed:Pending → Warmed:<PoolState> (boot, initialise, then stop or hibernate). */
  warmUp: Latency;
  /** Warmed:<state> → InService when the group draws on the warm pool. */
  resume: Record<PoolState, Latency>;
  /** Terminating → Terminated (and Warmed:Terminating → Warmed:Terminated). */
  terminate: Latency;
  /** InService → Warmed:<state> on scale in with ReuseOnScaleIn. */
  returnToWarmPool: Latency;
}

export interface WarmPoolSeed {
  minSize?: number;
  /** -1 or undefined: the pool fills up to the group's MaxSize. */
  maxGroupPreparedCapacity?: number;
  poolState?: PoolState;
  reuseOnScaleIn?: boolean;
}

/** A group that exists from the start (CreateAutoScalingGroup makes them over the wire too). */
export interface AutoScalingGroupSeed {
  name: string;
  minSize: number;
  maxSize: number;
  desiredCapacity?: number;
  /** ECS cluster its InService instances register into (default: autoScaling.defaultCluster). */
  cluster?: string;
  instanceType?: string;
  /** CPU units and MiB each instance registers with ECS (default: from the instance type). */
  capacity?: { cpu: number; memory: number };
  availabilityZones?: string[];
  warmPool?: WarmPoolSeed;
  /** Instances entering the group start protected from scale in (default false). */
  newInstancesProtectedFromScaleIn?: boolean;
}

/**
 * Timings as options take them: any subset, `resume` too (a missing pool state keeps its
 * default), as startEmulator merges them over DEFAULT_AUTOSCALING_TIMINGS.
 */
export type AutoScalingTimingsInput = Partial<Omit<AutoScalingTimings, "resume">> & {
  resume?: Partial<AutoScalingTimings["resume"]>;
};

export interface AutoScalingOptions {
  timings?: AutoScalingTimingsInput;
  groups?: AutoScalingGroupSeed[];
  /** Cluster for groups that name none; a group tag `emulator:ecs-cluster` overrides it. */
  defaultCluster?: string;
}

export const DEFAULT_AUTOSCALING_TIMINGS: AutoScalingTimings = {
  coldLaunch: { median: 180_000, sigma: 0.15 },
  warmUp: { median: 180_000, sigma: 0.15 },
  resume: {
    Hibernated: { median: 15_000, sigma: 0.15 },
    Stopped: { median: 20_000, sigma: 0.15 },
    Running: { median: 3_000, sigma: 0.2 },
  },
  terminate: { min: 5_000, max: 30_000 },
  returnToWarmPool: { median: 30_000, sigma: 0.2 },
};

/** What ECS registers for a few common instance types (CPU units, MiB after the agent's reserve). */
export const INSTANCE_CAPACITY: Record<string, { cpu: number; memory: number }> = {
  "t3.small": { cpu: 2048, memory: 1939 },
  "t3.medium": { cpu: 2048, memory: 3904 },
  "t3.large": { cpu: 2048, memory: 7851 },
  "m5.large": { cpu: 2048, memory: 7680 },
  "m5.xlarge": { cpu: 4096, memory: 15577 },
  "c5.xlarge": { cpu: 4096, memory: 7469 },
};

export type LifecycleState =
  | "Pending"
  | "InService"
  | "Terminating"
  | "Terminated"
  | "Warmed:Pending"
  | "Warmed:Stopped"
  | "Warmed:Running"
  | "Warmed:Hibernated"
  | "Warmed:Terminating"
  | "Warmed:Terminated";

export interface InstanceRecord {
  instanceId: string;
  instanceType: string;
  availabilityZone: string;
  lifecycleState: LifecycleState;
  launchedAt: number;
  /** In the warm pool (Warmed:*) rather than the group proper. */
  warm: boolean;
  /** ProtectedFromScaleIn: a scale-in never picks it (always false in the warm pool). */
  protectedFromScaleIn: boolean;
  timer?: NodeJS.Timeout;
  containerInstanceArn?: string;
  /** Every state taken, with when (ground truth). */
  history: { state: LifecycleState; at: number }[];
}

export interface WarmPoolRecord {
  minSize: number;
  maxGroupPreparedCapacity?: number;
  poolState: PoolState;
  reuseOnScaleIn: boolean;
  status?: "PendingDelete";
}

export interface GroupRecord {
  name: string;
  arn: string;
  minSize: number;
  maxSize: number;
  desiredCapacity: number;
  cluster: string;
  instanceType: string;
  capacity: { cpu: number; memory: number };
  availabilityZones: string[];
  createdAt: number;
  tags: { key: string; value: string; propagateAtLaunch: boolean }[];
  /** NewInstancesProtectedFromScaleIn: what an instance's protection is when it enters the group. */
  newInstancesProtectedFromScaleIn: boolean;
  warmPool?: WarmPoolRecord;
  /** Group and warm-pool instances not yet gone, in launch order. */
  instances: InstanceRecord[];
}
