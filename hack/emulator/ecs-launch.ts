/**
 * Launching tasks: RunTask (ECS places them) and StartTask (the caller names the container
 * instances), with ECS's validation, the Fargate launch bucket, injected placement failures,
 * EC2 capacity on container instances, and RunTask's clientToken idempotency.
 */
import { AwsError, clientError, invalidParameter, throttled } from "./errors.js";
import type { EcsContext, EcsHandler } from "./ecs-context.js";
import { wireTask } from "./ecs-wire.js";
import type { LaunchType } from "./options.js";
import type {
  ClusterRecord,
  ContainerRecord,
  Tag,
  TaskDefinitionRecord,
  TaskOverride,
  TaskRecord,
} from "./types.js";
import { optArray, optInt, optObject, optString, optStringArray, type Input } from "./validate.js";

const STARTED_BY = /^[A-Za-z0-9_-]{1,36}$/;
export const LAUNCH_TYPES = ["EC2", "FARGATE", "EXTERNAL"];
const TOKEN_TTL_MS = 24 * 60 * 60 * 1000;

type Failure = { arn?: string; reason: string; detail?: string };

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

/** What every launched task of one call shares, validated once. */
interface LaunchSpec {
  cluster: ClusterRecord;
  td: TaskDefinitionRecord;
  launchType: LaunchType;
  capacityProviderName?: string;
  startedBy?: string;
  group?: string;
  overrides: TaskOverride;
  tags: Tag[];
  cpu: number;
  memory: number;
}

/** The fields RunTask and StartTask share, checked in ECS's order. */
function readSpec(
  ctx: EcsContext,
  cluster: ClusterRecord,
  input: Input,
  launch: ReturnType<typeof launchTypeOf>,
): LaunchSpec {
  const tdRef = optString(input, "taskDefinition");
  if (!tdRef) throw invalidParameter("TaskDefinition cannot be null or empty.");
  const startedBy = optString(input, "startedBy");
  if (startedBy !== undefined && !STARTED_BY.test(startedBy))
    throw invalidParameter(
      "startedBy must be up to 36 letters (uppercase and lowercase), numbers, hyphens (-), and underscores (_).",
    );
  const group = optString(input, "group");
  if (group !== undefined && (group.length < 1 || group.length > 255))
    throw invalidParameter("group must be between 1 and 255 characters.");
  const overrides = optObject<TaskOverride>(input, "overrides") ?? {};
  if (JSON.stringify(overrides).length > 8192)
    throw invalidParameter("Container Overrides length must be at most 8192");
  const tags = checkTags(optArray<Tag>(input, "tags"));

  const td = ctx.store.taskDefinition(tdRef, "TaskDefinition not found.");
  if (td.status !== "ACTIVE") throw clientError("TaskDefinition is inactive");
  if (launch.launchType === "FARGATE" && !td.compatibilities.includes("FARGATE"))
    throw clientError("Task definition does not support launch_type FARGATE.");
  if (td.networkMode === "awsvpc" && !optObject(input, "networkConfiguration")?.["awsvpcConfiguration"])
    throw invalidParameter("Network Configuration must be provided when networkMode 'awsvpc' is specified.");
  const names = new Set(td.containerDefinitions.map((c) => c.name));
  for (const o of overrides.containerOverrides ?? [])
    if (!names.has(o.name))
      throw invalidParameter(
        `Override for container named ${String(o.name)} is not a container in the TaskDefinition.`,
      );
  const sum = (xs: number[]): number => xs.reduce((a, b) => a + b, 0);
  return {
    cluster,
    td,
    ...launch,
    startedBy,
    group,
    overrides,
    tags,
    cpu: Number(td.cpu ?? sum(td.containerDefinitions.map((c) => c.cpu ?? 0))),
    memory: Number(
      td.memory ?? sum(td.containerDefinitions.map((c) => c.memory ?? c.memoryReservation ?? 0)),
    ),
  };
}

/** Creates one task record and starts its lifecycle. */
function createTask(
  ctx: EcsContext,
  s: LaunchSpec,
  placedOn?: { containerInstanceArn: string; availabilityZone?: string },
): TaskRecord {
  const { cluster, td } = s;
  const now = Date.now();
  const taskId = ctx.store.newTaskId();
  const seq = ctx.store.nextSeq();
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
    taskArn: ctx.store.arn(`task/${cluster.clusterName}/${taskId}`),
    taskId,
    clusterArn: cluster.clusterArn,
    clusterName: cluster.clusterName,
    taskDefinitionArn: td.taskDefinitionArn,
    family: td.family,
    revision: td.revision,
    launchType: s.launchType,
    capacityProviderName: s.capacityProviderName,
    startedBy: s.startedBy,
    group: s.group ?? `family:${td.family}`,
    tags: s.tags,
    overrides: s.overrides,
    cpu: td.cpu ?? String(s.cpu),
    memory: td.memory ?? String(s.memory),
    availabilityZone:
      placedOn?.availabilityZone ?? ctx.opts.availabilityZones[seq % ctx.opts.availabilityZones.length] ?? "",
    containerInstanceArn: placedOn?.containerInstanceArn,
    lastStatus: "PROVISIONING",
    desiredStatus: "RUNNING",
    createdAt: now,
    listableAt: now + (ctx.faults.listLagMs() ?? ctx.opts.listVisibilityLagMs),
    version: 1,
    containers,
    history: [],
  };
  ctx.store.addTask(task);
  if (placedOn) ctx.placement?.bind(task, s.cpu, s.memory);
  ctx.launched.count += 1;
  ctx.lifecycle.launch(task, td, ctx.faults.failToStart());
  return task;
}

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
  const count = optInt(input, "count") ?? 1;
  if (count < 1 || count > 10) throw invalidParameter("count must be between 1 and 10.");
  const spec = readSpec(ctx, cluster, input, launchTypeOf(ctx, input));
  if (spec.launchType === "FARGATE" && ctx.fargateBucket && !ctx.fargateBucket.tryTake(count))
    throw throttled();

  const tasks: TaskRecord[] = [];
  const failures: Failure[] = [];
  for (let i = 0; i < count; i++) {
    const injected = ctx.faults.placementFailure();
    if (injected) {
      failures.push({ arn: cluster.clusterArn, reason: injected });
      continue;
    }
    if (spec.launchType !== "FARGATE" && ctx.placement) {
      const placed = ctx.placement.place(cluster, spec.cpu, spec.memory);
      if (placed && "failure" in placed) {
        failures.push(placed.failure);
        continue;
      }
      tasks.push(createTask(ctx, spec, placed));
    } else tasks.push(createTask(ctx, spec));
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

/** StartTask: one task on each named container instance (EC2), or a failure for it. */
export const startTask: EcsHandler = (ctx, input) => {
  const cluster = ctx.store.cluster(optString(input, "cluster"));
  const refs = optStringArray(input, "containerInstances");
  if (!refs || refs.length === 0) throw invalidParameter("Container instances cannot be empty.");
  if (refs.length > 10) throw invalidParameter("At most 10 container instances can be specified.");
  const spec = readSpec(ctx, cluster, input, { launchType: "EC2" });
  const tasks: TaskRecord[] = [];
  const failures: Failure[] = [];
  for (const ref of refs) {
    const placed = ctx.placement?.placeOn(cluster, ref, spec.cpu, spec.memory) ?? {
      failure: { arn: ref, reason: "MISSING" },
    };
    if ("failure" in placed) failures.push(placed.failure);
    else tasks.push(createTask(ctx, spec, placed));
  }
  return { tasks: tasks.map((t) => wireTask(t, true)), failures };
};
