/**
 * The narrow edges through which the reconciler touches ECS (CONVENTIONS: "a consumer asks only
 * for what it uses"). The AWS driver implements both; the planner never sees either.
 */
import type { EcsTask } from "../plan/index.js";

export interface ListTasksPage {
  taskArns: string[];
  nextToken?: string;
}

export interface DescribedTasks {
  tasks: EcsTask[];
  /** ARNs ECS does not know (failure reason MISSING): the task is gone for good. */
  missing: string[];
  /**
   * ARNs ECS described that this pool did not start (another `startedBy` or `group`): dropped
   * before anything else sees them, so a record holding a foreign ARN can never plan a stop.
   */
  foreign: string[];
}

/** Reads pool tasks: ListTasks(startedBy=<pool>) and DescribeTasks (≤ 100 ARNs a call). */
export interface TaskReader {
  listTasks(input: { desiredStatus: "RUNNING" | "STOPPED"; nextToken?: string }): Promise<ListTasksPage>;
  describeTasks(taskArns: string[]): Promise<DescribedTasks>;
}

export interface RunTaskInput {
  /** 1–10 (ECS's per-call limit). */
  count: number;
  taskDefinition: string;
  /** Idempotency token: a retried call with the same token never launches twice. */
  clientToken: string;
}

export interface RunFailure {
  arn?: string;
  reason: string;
  detail?: string;
}

export interface RunTaskResult {
  tasks: EcsTask[];
  failures: RunFailure[];
}

/** Starts and stops pool tasks: RunTask(startedBy=<pool>) and StopTask with a reason. */
export interface TaskWriter {
  runTask(input: RunTaskInput): Promise<RunTaskResult>;
  stopTask(taskArn: string, reason: string): Promise<void>;
}

export type EcsApi = "ListTasks" | "DescribeTasks" | "DescribeTaskDefinition" | "RunTask" | "StopTask";

/** ECS shares one token bucket across an API family (published throttling quotas). */
export type ApiFamily = "read" | "write";

export const API_FAMILY: Record<EcsApi, ApiFamily> = {
  ListTasks: "read",
  DescribeTasks: "read",
  DescribeTaskDefinition: "read",
  RunTask: "write",
  StopTask: "write",
};

export interface BucketLimit {
  ratePerSec: number;
  burst: number;
}

/**
 * ECS's published buckets: RunTask/StartTask/StopTask share burst 100 refilling 40/s;
 * DescribeTasks/ListTasks share burst 100 refilling 20/s.
 */
export const ECS_DEFAULT_LIMITS: Record<ApiFamily, BucketLimit> = {
  write: { ratePerSec: 40, burst: 100 },
  read: { ratePerSec: 20, burst: 100 },
};
