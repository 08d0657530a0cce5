/**
 * StopTask, ListTasks, DescribeTasks with ECS's validation rules and error codes. Where ECS's
 * documentation is silent the rules follow its observed answers, e.g. ListTasks refuses
 * `startedBy` together with `family`, `serviceName`, `containerInstance` or `launchType`
 * ("cannot specify startedBy with other arguments"); `desiredStatus` may be combined with it.
 */
import { AwsError, invalidParameter } from "./errors.js";
import type { EcsHandler } from "./ecs-context.js";
import { LAUNCH_TYPES } from "./ecs-launch.js";
import { wireTask } from "./ecs-wire.js";
import { taskIdOf } from "./store.js";
import type { TaskRecord } from "./types.js";
import { optInt, optString, optStringArray } from "./validate.js";

export const stopTask: EcsHandler = (ctx, input) => {
  const cluster = ctx.store.cluster(optString(input, "cluster"));
  const ref = optString(input, "task");
  if (!ref) throw invalidParameter("Task cannot be null or empty.");
  const reason = optString(input, "reason");
  if (reason !== undefined && reason.length > 255)
    throw invalidParameter("Reason must be at most 255 characters.");
  const task = ctx.store.tasksOf(cluster).get(taskIdOf(ref));
  if (!task) throw invalidParameter("The referenced task was not found.");
  if (task.desiredStatus !== "STOPPED") {
    ctx.lifecycle.stop(task, reason);
    task.tags = []; // ECS: "Any tags associated with the task will be deleted."
  }
  return { task: wireTask(task, false) };
};

interface ListCursor {
  after: number;
}

function decodeToken(token: string): ListCursor {
  try {
    const c = JSON.parse(Buffer.from(token, "base64url").toString("utf8")) as ListCursor;
    if (typeof c.after === "number") return c;
  } catch {
    // fall through
  }
  throw invalidParameter("Invalid token");
}

const encodeToken = (c: ListCursor): string => Buffer.from(JSON.stringify(c)).toString("base64url");

export const listTasks: EcsHandler = (ctx, input) => {
  const cluster = ctx.store.cluster(optString(input, "cluster"));
  const maxResults = optInt(input, "maxResults");
  if (maxResults !== undefined && (maxResults < 1 || maxResults > 100))
    throw invalidParameter("maxResults must be between 1 and 100.");
  const startedBy = optString(input, "startedBy");
  const family = optString(input, "family");
  const serviceName = optString(input, "serviceName");
  const containerInstance = optString(input, "containerInstance");
  const launchType = optString(input, "launchType");
  const desiredStatus = optString(input, "desiredStatus") ?? "RUNNING";
  if (
    startedBy !== undefined &&
    [family, serviceName, containerInstance, launchType].some((v) => v !== undefined)
  )
    throw invalidParameter("cannot specify startedBy with other arguments");
  if (serviceName !== undefined && [family, containerInstance].some((v) => v !== undefined))
    throw invalidParameter("cannot specify serviceName with other arguments");
  if (!["RUNNING", "PENDING", "STOPPED"].includes(desiredStatus))
    throw invalidParameter("desiredStatus must be one of RUNNING, PENDING, STOPPED.");
  if (launchType !== undefined && !LAUNCH_TYPES.includes(launchType))
    throw invalidParameter(`launchType must be one of ${LAUNCH_TYPES.join(", ")}.`);
  if (serviceName !== undefined) throw new AwsError("ServiceNotFoundException", "Service not found.");
  const nextToken = optString(input, "nextToken");
  const after = nextToken !== undefined ? decodeToken(nextToken).after : 0;

  const now = Date.now();
  ctx.store.expireStopped(now, ctx.opts.stoppedRetentionMs);
  const limit = maxResults ?? 100;
  const page: string[] = [];
  let more = false;
  let last = after;
  for (const t of ctx.store.tasksOf(cluster).values()) {
    if (t.seq <= after || t.listableAt > now) continue;
    if (t.desiredStatus !== desiredStatus) continue;
    if (startedBy !== undefined && t.startedBy !== startedBy) continue;
    if (family !== undefined && t.family !== family) continue;
    if (launchType !== undefined && t.launchType !== launchType) continue;
    if (containerInstance !== undefined && !t.containerInstanceArn?.endsWith(containerInstance)) continue;
    if (page.length === limit) {
      more = true;
      break;
    }
    page.push(t.taskArn);
    last = t.seq;
  }
  return { taskArns: page, nextToken: more ? encodeToken({ after: last }) : undefined };
};

export const describeTasks: EcsHandler = (ctx, input) => {
  const cluster = ctx.store.cluster(optString(input, "cluster"));
  const refs = optStringArray(input, "tasks");
  if (!refs || refs.length === 0) throw invalidParameter("Tasks cannot be empty.");
  if (refs.length > 100)
    throw invalidParameter("Too many tasks were provided. At most 100 tasks are allowed.");
  const withTags = (optStringArray(input, "include") ?? []).includes("TAGS");
  ctx.store.expireStopped(Date.now(), ctx.opts.stoppedRetentionMs);
  const tasksHere = ctx.store.tasksOf(cluster);
  const tasks: Record<string, unknown>[] = [];
  const failures: { arn: string; reason: string }[] = [];
  for (const ref of refs) {
    let task: TaskRecord | undefined;
    try {
      task = tasksHere.get(taskIdOf(ref));
    } catch {
      task = undefined;
    }
    if (task) tasks.push(wireTask(task, withTags));
    else failures.push({ arn: ref, reason: "MISSING" });
  }
  return { tasks, failures };
};
