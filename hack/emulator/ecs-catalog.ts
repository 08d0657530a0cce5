/**
 * Clusters, task definitions and tags: the catalogue a task launch refers to, with the
 * registration rules ECS applies (family characters, essential containers, Fargate needing
 * awsvpc and task-level cpu/memory).
 */
import { AwsError, clientError, invalidParameter } from "./errors.js";
import type { EcsHandler } from "./ecs-context.js";
import { wireCluster, wireTaskDefinition } from "./ecs-wire.js";
import { checkTags } from "./ecs-launch.js";
import { clusterName, taskIdOf } from "./store.js";
import type { ContainerDefinition, Tag, TaskDefinitionRecord } from "./types.js";
import { optArray, optInt, optString, optStringArray, type Input } from "./validate.js";

const NAME = /^[A-Za-z0-9_-]{1,255}$/;

export const createCluster: EcsHandler = (ctx, input) => {
  const name = optString(input, "clusterName") ?? "default";
  if (!NAME.test(name))
    throw invalidParameter(
      "Cluster name must be 1-255 letters (uppercase and lowercase), numbers, hyphens and underscores.",
    );
  const c = ctx.store.createCluster(name);
  const tags = optArray<Tag>(input, "tags");
  if (tags) c.tags = checkTags(tags);
  const cps = optStringArray(input, "capacityProviders");
  if (cps) c.capacityProviders = cps;
  return { cluster: wireCluster(c, ctx.store.tasksOf(c).values(), true) };
};

export const deleteCluster: EcsHandler = (ctx, input) => {
  const c = ctx.store.cluster(optString(input, "cluster"));
  const active = [...ctx.store.tasksOf(c).values()].some((t) => t.lastStatus !== "STOPPED");
  if (active)
    throw new AwsError(
      "ClusterContainsTasksException",
      "The Cluster cannot be deleted while Tasks are active.",
    );
  c.status = "INACTIVE";
  return { cluster: wireCluster(c, [], false) };
};

export const describeClusters: EcsHandler = (ctx, input) => {
  const refs = optStringArray(input, "clusters") ?? ["default"];
  if (refs.length > 100) throw invalidParameter("At most 100 clusters can be described at once.");
  const withTags = (optStringArray(input, "include") ?? []).includes("TAGS");
  const clusters: Record<string, unknown>[] = [];
  const failures: { arn: string; reason: string }[] = [];
  for (const ref of refs) {
    const c = ctx.store.clusters.get(clusterName(ref));
    if (c)
      clusters.push(
        wireCluster(
          c,
          ctx.store.tasksOf(c).values(),
          withTags,
          ctx.placement?.activeCount(c.clusterName) ?? 0,
        ),
      );
    else
      failures.push({
        arn: ref.startsWith("arn:") ? ref : ctx.store.arn(`cluster/${ref}`),
        reason: "MISSING",
      });
  }
  return { clusters, failures };
};

export const listClusters: EcsHandler = (ctx, input) => {
  const max = optInt(input, "maxResults");
  if (max !== undefined && (max < 1 || max > 100))
    throw invalidParameter("maxResults must be between 1 and 100.");
  const all = [...ctx.store.clusters.values()].filter((c) => c.status === "ACTIVE").map((c) => c.clusterArn);
  const start = Number(optString(input, "nextToken") ?? 0);
  if (!Number.isInteger(start) || start < 0) throw invalidParameter("Invalid token");
  const end = start + (max ?? 100);
  return { clusterArns: all.slice(start, end), nextToken: end < all.length ? String(end) : undefined };
};

function checkContainers(
  defs: ContainerDefinition[] | undefined,
  taskMemory: string | undefined,
): ContainerDefinition[] {
  if (!defs || defs.length === 0) throw clientError("Container list cannot be empty.");
  if (defs.length > 10) throw clientError("Too many containers. At most 10 containers are allowed.");
  const names = new Set<string>();
  for (const c of defs) {
    if (typeof c !== "object" || c === null) throw clientError("Container definition must be a structure.");
    if (!c.name) throw clientError("Container.name should not be null or empty.");
    if (!/^[A-Za-z0-9_-]{1,255}$/.test(c.name))
      throw clientError("Container.name contains invalid characters.");
    if (names.has(c.name)) throw clientError(`Duplicate container name: ${c.name}`);
    names.add(c.name);
    if (!c.image) throw clientError("Container.image should not be null or empty.");
    if (taskMemory === undefined && c.memory === undefined && c.memoryReservation === undefined)
      throw clientError(
        `Invalid setting for container '${c.name}'. At least one of 'memory' or 'memoryReservation' must be specified.`,
      );
    if (
      c.stopTimeout !== undefined &&
      (typeof c.stopTimeout !== "number" || c.stopTimeout < 0 || c.stopTimeout > 120)
    )
      throw clientError(
        `Invalid setting for container '${c.name}'. stopTimeout must be between 0 and 120 seconds.`,
      );
    if (c.environment !== undefined && !Array.isArray(c.environment))
      throw clientError(`Container '${c.name}': environment must be a list of {name, value}.`);
  }
  if (!defs.some((c) => c.essential !== false))
    throw clientError("Task definition does not have any essential containers.");
  return defs;
}

export const registerTaskDefinition: EcsHandler = (ctx, input) => {
  const family = optString(input, "family");
  if (!family) throw clientError("Family should not be null or empty.");
  if (!NAME.test(family)) throw clientError("Family contains invalid characters.");
  const cpu = input["cpu"] !== undefined ? String(input["cpu"]) : undefined;
  const memory = input["memory"] !== undefined ? String(input["memory"]) : undefined;
  const networkMode = optString(input, "networkMode");
  if (networkMode !== undefined && !["bridge", "host", "awsvpc", "none"].includes(networkMode))
    throw clientError("networkMode must be one of bridge, host, awsvpc, none.");
  const requires = optStringArray(input, "requiresCompatibilities");
  const containers = checkContainers(optArray<ContainerDefinition>(input, "containerDefinitions"), memory);
  if (requires?.includes("FARGATE")) {
    if (networkMode !== "awsvpc") throw clientError("Fargate only supports network mode 'awsvpc'.");
    if (cpu === undefined) throw clientError("Fargate requires that 'cpu' be defined at the task level.");
    if (memory === undefined)
      throw clientError("Fargate requires that 'memory' be defined at the task level.");
  }
  const tags = checkTags(optArray<Tag>(input, "tags"));
  const known = new Set([
    "family",
    "cpu",
    "memory",
    "networkMode",
    "requiresCompatibilities",
    "containerDefinitions",
    "tags",
  ]);
  const extra: Input = {};
  for (const [k, v] of Object.entries(input)) if (!known.has(k)) extra[k] = v;
  const revs = ctx.store.taskDefinitions.get(family) ?? [];
  ctx.store.taskDefinitions.set(family, revs);
  const revision = revs.length + 1;
  const fargateOk = networkMode === "awsvpc" && cpu !== undefined && memory !== undefined;
  const td: TaskDefinitionRecord = {
    taskDefinitionArn: ctx.store.arn(`task-definition/${family}:${revision}`),
    family,
    revision,
    status: "ACTIVE",
    containerDefinitions: containers.map((c) => ({ essential: true, environment: [], ...c })),
    networkMode: networkMode ?? "bridge",
    requiresCompatibilities: requires,
    compatibilities: fargateOk ? ["EC2", "FARGATE"] : ["EC2"],
    cpu,
    memory,
    registeredAt: Date.now(),
    tags,
    extra,
  };
  revs.push(td);
  return { taskDefinition: wireTaskDefinition(td), tags };
};

export const describeTaskDefinition: EcsHandler = (ctx, input) => {
  const ref = optString(input, "taskDefinition");
  if (!ref) throw clientError("TaskDefinition cannot be null or empty.");
  const td = ctx.store.taskDefinition(ref);
  const withTags = (optStringArray(input, "include") ?? []).includes("TAGS");
  return { taskDefinition: wireTaskDefinition(td), tags: withTags ? td.tags : undefined };
};

export const deregisterTaskDefinition: EcsHandler = (ctx, input) => {
  const ref = optString(input, "taskDefinition");
  if (!ref || !/:\d+$/.test(ref))
    throw clientError("Invalid revision number. Number: " + (ref?.split(":").pop() ?? ""));
  const td = ctx.store.taskDefinition(ref, "The specified task definition does not exist.");
  if (td.status === "ACTIVE") {
    td.status = "INACTIVE";
    td.deregisteredAt = Date.now();
  }
  return { taskDefinition: wireTaskDefinition(td) };
};

export const listTaskDefinitions: EcsHandler = (ctx, input) => {
  const familyPrefix = optString(input, "familyPrefix");
  const status = optString(input, "status") ?? "ACTIVE";
  const sort = optString(input, "sort") ?? "ASC";
  const max = optInt(input, "maxResults");
  if (max !== undefined && (max < 1 || max > 100))
    throw invalidParameter("maxResults must be between 1 and 100.");
  let arns: string[] = [];
  for (const [family, revs] of [...ctx.store.taskDefinitions].sort(([a], [b]) => a.localeCompare(b)))
    if (familyPrefix === undefined || family.startsWith(familyPrefix))
      for (const td of revs) if (td.status === status) arns.push(td.taskDefinitionArn);
  if (sort === "DESC") arns = arns.reverse();
  const start = Number(optString(input, "nextToken") ?? 0);
  if (!Number.isInteger(start) || start < 0) throw invalidParameter("Invalid token");
  const end = start + (max ?? 100);
  return {
    taskDefinitionArns: arns.slice(start, end),
    nextToken: end < arns.length ? String(end) : undefined,
  };
};

/** The tag list of the resource an ARN names (cluster, task, task definition). */
function tagsHolder(ctx: Parameters<EcsHandler>[0], arn: string | undefined): { tags: Tag[] } {
  if (!arn) throw invalidParameter("resourceArn cannot be null or empty.");
  const m = /^arn:aws[\w-]*:ecs:[\w-]+:\d{12}:(cluster|task|task-definition)\/(.+)$/.exec(arn);
  if (!m) throw invalidParameter("Invalid resource ARN.");
  const [, kind, rest] = m as unknown as [string, string, string];
  if (kind === "cluster") return ctx.store.cluster(rest);
  if (kind === "task-definition")
    return ctx.store.taskDefinition(rest, "The specified task definition does not exist.");
  const parts = rest.split("/");
  const cluster = ctx.store.cluster(parts.length > 1 ? parts[0] : "default");
  const task = ctx.store.tasksOf(cluster).get(taskIdOf(arn));
  if (!task) throw invalidParameter("The specified task is stopped or does not exist.");
  return task;
}

export const tagResource: EcsHandler = (ctx, input) => {
  const holder = tagsHolder(ctx, optString(input, "resourceArn"));
  const add = checkTags(optArray<Tag>(input, "tags"));
  const merged = new Map(holder.tags.map((t) => [t.key, t]));
  for (const t of add) merged.set(t.key, t);
  if (merged.size > 50) throw invalidParameter("A resource can have at most 50 tags.");
  holder.tags = [...merged.values()];
  return {};
};

export const untagResource: EcsHandler = (ctx, input) => {
  const holder = tagsHolder(ctx, optString(input, "resourceArn"));
  const keys = new Set(optStringArray(input, "tagKeys") ?? []);
  holder.tags = holder.tags.filter((t) => !keys.has(t.key));
  return {};
};

export const listTagsForResource: EcsHandler = (ctx, input) => ({
  tags: tagsHolder(ctx, optString(input, "resourceArn")).tags,
});
