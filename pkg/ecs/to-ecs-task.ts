import type { Task } from "@aws-sdk/client-ecs";
import type { EcsStatus, EcsTask } from "../plan/index.js";

/** The task id is the last segment of its ARN (`arn:…:task/<cluster>/<id>`). */
export function taskIdOf(taskArn: string): string {
  const i = taskArn.lastIndexOf("/");
  return i < 0 ? taskArn : taskArn.slice(i + 1);
}

const ms = (d: Date | undefined): number | undefined => (d ? d.getTime() : undefined);

/** An observed task with the container instance hosting it (EC2 capacity; absent on Fargate). */
export type HostedEcsTask = EcsTask & { containerInstanceArn?: string };

/** The container instance a task runs on, when DescribeTasks said. */
export function containerInstanceOf(t: EcsTask): string | undefined {
  return (t as HostedEcsTask).containerInstanceArn;
}

/** Translates the SDK's Task into the planner's EcsTask; nothing else of the SDK leaks further. */
export function toEcsTask(t: Task): EcsTask | undefined {
  if (!t.taskArn) return undefined;
  const task: HostedEcsTask = {
    taskId: taskIdOf(t.taskArn),
    taskArn: t.taskArn,
    lastStatus: (t.lastStatus ?? "PROVISIONING") as EcsStatus,
    desiredStatus: t.desiredStatus === "STOPPED" ? "STOPPED" : "RUNNING",
    taskDefinitionArn: t.taskDefinitionArn ?? "",
    createdAtMs: ms(t.createdAt) ?? 0,
  };
  const started = ms(t.startedAt);
  if (started !== undefined) task.startedAtMs = started;
  const stopped = ms(t.stoppedAt);
  if (stopped !== undefined) task.stoppedAtMs = stopped;
  if (t.stopCode) task.stopCode = t.stopCode;
  if (t.stoppedReason) task.stoppedReason = t.stoppedReason;
  if (t.version !== undefined) task.version = t.version;
  if (t.containerInstanceArn) task.containerInstanceArn = t.containerInstanceArn;
  return task;
}

/** The group RunTask gives every task of a pool. */
export const poolGroup = (pool: string): string => `warmpool:${pool}`;

/**
 * A task this pool started: `startedBy` is the pool, and its group is the pool's (or ECS's default
 * `family:<name>`, for a task started with the pool's startedBy and no group). Anything else —
 * another service's task (`service:<name>`), a task whose ARN was planted in a record — is not the
 * pool's to count, stop or forget.
 */
export function isPoolTask(t: { startedBy?: string; group?: string }, pool: string): boolean {
  if (t.startedBy !== pool) return false;
  return t.group === undefined || t.group === poolGroup(pool) || t.group.startsWith("family:");
}
