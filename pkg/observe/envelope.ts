/**
 * The EventBridge envelope of an ECS task state change, as an SQS message body carries it
 * (`detail-type: "ECS Task State Change"`, `source: "aws.ecs"`, `detail` = the task as
 * DescribeTasks would show it, with `version` counting the task's changes). Parsed into the
 * planner's EcsTask plus what the feed filters and orders on; anything else is malformed.
 */
import { taskIdOf } from "../ecs/index.js";
import type { EcsStatus, EcsTask } from "../plan/index.js";

export const TASK_STATE_CHANGE = "ECS Task State Change";

export interface TaskStateChange {
  task: EcsTask;
  /** `detail.version`: orders one task's changes (higher = later). */
  version: number;
  startedBy?: string;
  group?: string;
  clusterArn?: string;
  /** When the change happened: `detail.updatedAt` (ms precision), else the envelope's `time`. */
  atMs: number;
}

const STATUSES = new Set<EcsStatus>([
  "PROVISIONING",
  "PENDING",
  "ACTIVATING",
  "RUNNING",
  "DEACTIVATING",
  "STOPPING",
  "DEPROVISIONING",
  "STOPPED",
]);

const str = (v: unknown): string | undefined => (typeof v === "string" && v !== "" ? v : undefined);
const time = (v: unknown): number | undefined => {
  const s = str(v);
  if (s === undefined) return undefined;
  const ms = Date.parse(s);
  return Number.isFinite(ms) ? ms : undefined;
};

/** Parses one message body; throws an Error naming the field that is wrong. */
export function parseTaskStateChange(body: string): TaskStateChange {
  let env: Record<string, unknown>;
  try {
    env = JSON.parse(body) as Record<string, unknown>;
  } catch {
    throw new Error("body: not JSON");
  }
  if (typeof env !== "object" || env === null) throw new Error("body: not a JSON object");
  if (env["detail-type"] !== TASK_STATE_CHANGE)
    throw new Error(
      `detail-type: expected "${TASK_STATE_CHANGE}", got ${JSON.stringify(env["detail-type"])}`,
    );
  if (env.source !== "aws.ecs")
    throw new Error(`source: expected "aws.ecs", got ${JSON.stringify(env.source)}`);
  const d = env.detail as Record<string, unknown> | undefined;
  if (typeof d !== "object" || d === null) throw new Error("detail: missing");
  const taskArn = str(d.taskArn);
  if (!taskArn) throw new Error("detail.taskArn: missing");
  const version = d.version;
  if (typeof version !== "number" || !Number.isInteger(version) || version < 0)
    throw new Error("detail.version: must be a non-negative integer");
  const lastStatus = str(d.lastStatus) as EcsStatus | undefined;
  if (!lastStatus || !STATUSES.has(lastStatus))
    throw new Error(`detail.lastStatus: unknown ${JSON.stringify(d.lastStatus)}`);
  const desired = str(d.desiredStatus);
  if (desired !== "RUNNING" && desired !== "STOPPED" && desired !== "PENDING")
    throw new Error(`detail.desiredStatus: unknown ${JSON.stringify(d.desiredStatus)}`);
  const task: EcsTask = {
    taskId: taskIdOf(taskArn),
    taskArn,
    lastStatus,
    desiredStatus: desired === "STOPPED" ? "STOPPED" : "RUNNING",
    taskDefinitionArn: str(d.taskDefinitionArn) ?? "",
    createdAtMs: time(d.createdAt) ?? 0,
    version,
  };
  const started = time(d.startedAt);
  if (started !== undefined) task.startedAtMs = started;
  const stopped = time(d.stoppedAt);
  if (stopped !== undefined) task.stoppedAtMs = stopped;
  const stopCode = str(d.stopCode);
  if (stopCode) task.stopCode = stopCode;
  const reason = str(d.stoppedReason);
  if (reason) task.stoppedReason = reason;
  const atMs = time(d.updatedAt) ?? time(env.time);
  if (atMs === undefined) throw new Error("time: missing (neither detail.updatedAt nor time)");
  const out: TaskStateChange = { task, version, atMs };
  const startedBy = str(d.startedBy);
  if (startedBy) out.startedBy = startedBy;
  const group = str(d.group);
  if (group) out.group = group;
  const cluster = str(d.clusterArn);
  if (cluster) out.clusterArn = cluster;
  return out;
}

/** `default` matches `arn:aws:ecs:…:cluster/default` and the bare name. */
export function clusterMatches(clusterArn: string | undefined, cluster: string): boolean {
  if (clusterArn === undefined) return true;
  if (clusterArn === cluster) return true;
  return clusterArn.endsWith(`:cluster/${cluster}`) || cluster.endsWith(`:cluster/${clusterArn}`);
}
