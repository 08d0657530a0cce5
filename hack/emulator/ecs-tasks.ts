/**
 * RunTask, StopTask, ListTasks, DescribeTasks with ECS's validation rules and error codes.
 * Where ECS's documentation is silent the rules follow its observed answers, e.g. ListTasks
 * refuses `startedBy` together with `family`, `serviceName`, `containerInstance` or
 * `launchType` ("cannot specify startedBy with other arguments"); `desiredStatus` may be
 * combined with it.
 */
import { AwsError, clientError, invalidParameter, throttled } from "./errors.js";
import type { EcsContext, EcsHandler } from "./ecs-context.js";
import { wireTask } from "./ecs-wire.js";
import type { LaunchType } from "./options.js";
import { taskIdOf } from "./store.js";
import type { ContainerRecord, Tag, TaskOverride, TaskRecord } from "./types.js";
import { optArray, optInt, optObject, optString, optStringArray, type Input } from "./validate.js";

const STARTED_BY = /^[A-Za-z0-9_-]{1,36}$/;
const LAUNCH_TYPES = ["EC2", "FARGATE", "EXTERNAL"];

export function checkTags(tags: Tag[] | undefined): Tag[] {
  const list = tags ?? [];
  if (list.length > 50) throw invalidParameter("Tags can have at most 50 entries.");
  const seen = new Set<string>();
  for (const t of list) {
    if (typeof t?.key !== "string" || t.key.length < 1 || t.key.length > 128)
      throw invalidParameter("Tag keys must be between 1 and 128 characters.");
    if (t.value !== undefined && (typeof t.value !== "string" || t.value.length > 256))
      throw invalidParameter("Tag values must be at most 256 characters.");
    if (t.key.toLowerCase().startsWith("aws:")) throw invalidParameter("Tag keys may not begin with 'aws:'.");
    if (seen.has(t.key)) throw invalidParameter(`Duplicate tag key: ${t.key}`);
    seen.add(t.key);
  }
  return list.map((t) => ({ key: t.key, value: t.value ?? "" }));
}

function launchTypeOf(
  ctx: EcsContext,
  input: Input,
): { launchType: LaunchType; capacityProviderName?: string } {
  const lt = optString(input, "launchType");
  const cps = optArray<{ capacityProvider?: string; weight?: number }>(input, "capacityProviderStrategy");
  if (lt !== undefined && cps !== undefined && cps.length > 0)
    throw invalidParameter(
      "Specifying both a launch type and capacity provider strategy is not supported. Remove one and try again.",
    );
  if (lt !== undefined) {
    if (!LAUNCH_TYPES.includes(lt))
      throw invalidParameter(`launchType must be one of ${LAUNCH_TYPES.join(", ")}.`);
    return { launchType: lt as LaunchType };
  }
  if (cps && cps.length > 0) {
    if (cps.length > 6)
      throw invalidParameter("capacityProviderStrategy can contain at most 6 capacity providers.");
    const name = cps.find((c) => (c.weight ?? 1) > 0)?.capacityProvider ?? cps[0]?.capacityProvider;
    if (typeof name !== "string") throw invalidParameter("capacityProvider must be specified.");
    const fargate = name === "FARGATE" || name === "FARGATE_SPOT";
    return { launchType: fargate ? "FARGATE" : "EC2", capacityProviderName: name };
  }
  return { launchType: ctx.opts.defaultLaunchType };
}

const TOKEN_TTL_MS = 24 * 60 * 60 * 1000;

/** The request minus its token, with keys in a fixed order: equal requests, equal strings. */
function fingerprint(input: Input): string {
  const sorted = (v: unknown): unknown =>
    Array.isArray(v)
      ? v.map(sorted)
      : v && typeof v === "object"
        ? Object.fromEntries(
            Object.keys(v)
              .sort()
              .map((k) => [k, sorted((v as Input)[k])]),
          )
        : v;
  const { clientToken: _token, ...rest } = input;
  return JSON.stringify(sorted(rest));
}

/**
 * RunTask idempotency (ECS: per cluster, 24 h): a retry with the same token and the same
 * parameters gets the first call's tasks (as they are now) and launches nothing; the same token
 * with other parameters is a ConflictException.
 */
function replay(
  ctx: EcsContext,
  clusterName: string,
  token: string,
  input: Input,
): Record<string, unknown> | undefined {
  const prior = ctx.store.runTokens.get(clusterName)?.get(token);
  if (!prior || Date.now() - prior.at >= TOKEN_TTL_MS) return undefined;
  if (prior.fingerprint !== fingerprint(input))
    throw new AwsError(
      "ConflictException",
      "The request uses the same client token as a previous, but non-identical request. Do not reuse a client token with different requests, unless the requests are identical.",
    );
  const tasks = prior.taskIds.flatMap((id) => {
    const t = ctx.store.byId.get(id);
    return t ? [wireTask(t, true)] : [];
  });
  return { tasks, failures: prior.failures };
}

export const runTask: EcsHandler = (ctx, input) => {
  const cluster = ctx.store.cluster(optString(input, "cluster"));
  const clientToken = optString(input, "clientToken");
  if (clientToken !== undefined && !/^[\x21-\x7e]{1,64}$/.test(clientToken))
    throw invalidParameter("clientToken must be 1 to 64 ASCII characters in the range 33-126.");
  if (clientToken !== undefined) {
    const again = replay(ctx, cluster.clusterName, clientToken, input);
    if (again) return again;
  }
  const tdRef = optString(input, "taskDefinition");
  if (!tdRef) throw invalidParameter("TaskDefinition cannot be null or empty.");
  const count = optInt(input, "count") ?? 1;
  if (count < 1 || count > 10) throw invalidParameter("count must be between 1 and 10.");
  const startedBy = optString(input, "startedBy");
  if (startedBy !== undefined && !STARTED_BY.test(startedBy))
    throw invalidParameter(
      "startedBy must be up to 36 letters (uppercase and lowercase), numbers, hyphens (-), and underscores (_).",
    );
  const group = optString(input, "group");
  if (group !== undefined && (group.length < 1 || group.length > 255))
    throw invalidParameter("group must be between 1 and 255 characters.");
  const { launchType, capacityProviderName } = launchTypeOf(ctx, input);
  const overrides = optObject<TaskOverride>(input, "overrides") ?? {};
  if (JSON.stringify(overrides).length > 8192)
    throw invalidParameter("Container Overrides length must be at most 8192");
  const tags = checkTags(optArray<Tag>(input, "tags"));

  const td = ctx.store.taskDefinition(tdRef, "TaskDefinition not found.");
  if (td.status !== "ACTIVE") throw clientError("TaskDefinition is inactive");
  if (launchType === "FARGATE" && !td.compatibilities.includes("FARGATE"))
    throw clientError("Task definition does not support launch_type FARGATE.");
  if (td.networkMode === "awsvpc" && !optObject(input, "networkConfiguration")?.["awsvpcConfiguration"])
    throw invalidParameter("Network Configuration must be provided when networkMode 'awsvpc' is specified.");
  const names = new Set(td.containerDefinitions.map((c) => c.name));
  for (const o of overrides.containerOverrides ?? [])
    if (!names.has(o.name))
      throw invalidParameter(
        `Override for container named ${String(o.name)} is not a container in the TaskDefinition.`,
      );

  if (launchType === "FARGATE" && ctx.fargateBucket && !ctx.fargateBucket.tryTake(count)) throw throttled();

  const tasks: TaskRecord[] = [];
  const failures: { arn?: string; reason: string; detail?: string }[] = [];
  const taskCpu = Number(td.cpu ?? sum(td.containerDefinitions.map((c) => c.cpu ?? 0)));
  const taskMem = Number(
    td.memory ?? sum(td.containerDefinitions.map((c) => c.memory ?? c.memoryReservation ?? 0)),
  );
  const lag = ctx.faults.listLagMs() ?? ctx.opts.listVisibilityLagMs;
  for (let i = 0; i < count; i++) {
    const injected = ctx.faults.placementFailure();
    if (injected) {
      failures.push({ arn: cluster.clusterArn, reason: injected });
      continue;
    }
    let containerInstanceArn: string | undefined;
    if (launchType !== "FARGATE" && ctx.placement) {
      const placed = ctx.placement.place(cluster, taskCpu, taskMem);
      if (placed && "failure" in placed) {
        failures.push(placed.failure);
        continue;
      }
      containerInstanceArn = placed?.containerInstanceArn;
    }
    const now = Date.now();
    const taskId = ctx.store.newTaskId();
    const seq = ctx.store.nextSeq();
    const taskArn = ctx.store.arn(`task/${cluster.clusterName}/${taskId}`);
    const containers: ContainerRecord[] = td.containerDefinitions.map((c, n) => ({
      containerArn: ctx.store.arn(
        `container/${cluster.clusterName}/${taskId}/${ctx.store.newTaskId().slice(0, 8)}-${n}`,
      ),
      name: c.name ?? `container-${n}`,
      image: c.image,
      runtimeId: `${taskId}-${n}`,
      lastStatus: "PENDING",
      cpu: c.cpu !== undefined ? String(c.cpu) : "0",
      memory: c.memory !== undefined ? String(c.memory) : undefined,
    }));
    const task: TaskRecord = {
      seq,
      taskArn,
      taskId,
      clusterArn: cluster.clusterArn,
      clusterName: cluster.clusterName,
      taskDefinitionArn: td.taskDefinitionArn,
      family: td.family,
      revision: td.revision,
      launchType,
      capacityProviderName,
      startedBy,
      group: group ?? `family:${td.family}`,
      tags,
      overrides,
      cpu: td.cpu ?? String(taskCpu),
      memory: td.memory ?? String(taskMem),
      availabilityZone: ctx.opts.availabilityZones[seq % ctx.opts.availabilityZones.length] ?? "",
      containerInstanceArn,
      lastStatus: "PROVISIONING",
      desiredStatus: "RUNNING",
      createdAt: now,
      listableAt: now + lag,
      version: 1,
      containers,
      history: [],
    };
    ctx.store.addTask(task);
    if (containerInstanceArn) ctx.placement?.bind(task, taskCpu, taskMem);
    ctx.launched.count += 1;
    ctx.lifecycle.launch(task, td, ctx.faults.failToStart());
    tasks.push(task);
  }
  if (clientToken !== undefined) {
    let tokens = ctx.store.runTokens.get(cluster.clusterName);
    if (!tokens) ctx.store.runTokens.set(cluster.clusterName, (tokens = new Map()));
    tokens.set(clientToken, {
      fingerprint: fingerprint(input),
      at: Date.now(),
      taskIds: tasks.map((t) => t.taskId),
      failures,
    });
  }
  return { tasks: tasks.map((t) => wireTask(t, true)), failures };
};

function sum(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0);
}

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
