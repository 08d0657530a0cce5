/**
 * The narrow edges through which capacity is observed and changed. AsgDriver implements all
 * three against the real Auto Scaling and ECS APIs; the capacity planner sees none of them.
 */
import type { BucketLimit } from "../ecs/index.js";
import type { ContainerInstance, ObservedGroup, TaskSize, WarmPoolConfig } from "../capacity/index.js";

/** DescribeAutoScalingGroups + DescribeWarmPool (all pages). */
export interface GroupReader {
  /** Undefined when the group does not exist. */
  describeGroup(name: string): Promise<Omit<ObservedGroup, "warmInstances" | "warmPool"> | undefined>;
  describeWarmPool(
    name: string,
  ): Promise<{ config?: WarmPoolConfig; instances: ObservedGroup["warmInstances"] }>;
}

export interface PutWarmPoolInput {
  groupName: string;
  minSize: number;
  maxGroupPreparedCapacity: number;
  poolState: "Hibernated" | "Stopped" | "Running";
}

/** PutWarmPool, SetDesiredCapacity, SetInstanceProtection. */
export interface GroupWriter {
  putWarmPool(input: PutWarmPoolInput): Promise<void>;
  setDesiredCapacity(groupName: string, desiredCapacity: number): Promise<void>;
  setInstanceProtection(groupName: string, instanceIds: string[], protect: boolean): Promise<void>;
  /** False once the endpoint answered SetInstanceProtection with an unknown-operation error. */
  readonly protectionSupported: boolean;
}

/** ListContainerInstances + DescribeContainerInstances, and the task size from its definition. */
export interface ClusterCapacityReader {
  containerInstances(): Promise<ContainerInstance[]>;
  taskSize(taskDefinition: string): Promise<TaskSize>;
}

export type AsgApi =
  | "DescribeAutoScalingGroups"
  | "DescribeWarmPool"
  | "PutWarmPool"
  | "SetDesiredCapacity"
  | "SetInstanceProtection"
  | "ListContainerInstances"
  | "DescribeContainerInstances"
  | "DescribeTaskDefinition";

export type AsgFamily = "asg-read" | "asg-write" | "ecs-read";

export const ASG_API_FAMILY: Record<AsgApi, AsgFamily> = {
  DescribeAutoScalingGroups: "asg-read",
  DescribeWarmPool: "asg-read",
  PutWarmPool: "asg-write",
  SetDesiredCapacity: "asg-write",
  SetInstanceProtection: "asg-write",
  ListContainerInstances: "ecs-read",
  DescribeContainerInstances: "ecs-read",
  DescribeTaskDefinition: "ecs-read",
};

/**
 * Auto Scaling publishes no per-API quota; these stay well inside what accounts see in practice
 * (the reconciler makes a handful of calls a pass). ECS reads use ECS's published read bucket.
 */
export const ASG_DEFAULT_LIMITS: Record<AsgFamily, BucketLimit> = {
  "asg-read": { ratePerSec: 10, burst: 20 },
  "asg-write": { ratePerSec: 5, burst: 10 },
  "ecs-read": { ratePerSec: 20, burst: 100 },
};

/** DescribeWarmPool returns at most 50 instances a page. */
export const WARM_POOL_PAGE = 50;
