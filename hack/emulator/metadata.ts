/**
 * The task metadata endpoint v4 as ECS serves it to containers: `$ECS_CONTAINER_METADATA_URI_V4`
 * answers the container's own metadata, `…/task` the task's. Here the URI is
 * `<endpoint>/v4/<runtimeId>` where runtimeId is `<taskId>-<containerIndex>`.
 */
import type { ResolvedOptions } from "./options.js";
import type { Store } from "./store.js";
import type { ContainerDefinition, KeyValuePair, TaskRecord } from "./types.js";

const iso = (ms: number | undefined): string | undefined =>
  ms === undefined ? undefined : new Date(ms).toISOString();

function containerMetadata(t: TaskRecord, index: number): Record<string, unknown> | undefined {
  const c = t.containers[index];
  if (!c) return undefined;
  return {
    DockerId: c.runtimeId,
    Name: c.name,
    DockerName: `ecs-${t.family}-${t.revision}-${c.name}`,
    Image: c.image,
    ImageID: `sha256:${t.taskId}${t.taskId}`,
    Labels: {
      "com.amazonaws.ecs.cluster": t.clusterArn,
      "com.amazonaws.ecs.container-name": c.name,
      "com.amazonaws.ecs.task-arn": t.taskArn,
      "com.amazonaws.ecs.task-definition-family": t.family,
      "com.amazonaws.ecs.task-definition-version": String(t.revision),
    },
    DesiredStatus: t.desiredStatus,
    KnownStatus: c.lastStatus,
    Limits: { CPU: Number(c.cpu ?? 0), Memory: Number(c.memory ?? 0) },
    CreatedAt: iso(t.createdAt),
    StartedAt: iso(t.startedAt),
    Type: "NORMAL",
    ContainerARN: c.containerArn,
    Networks: [
      { NetworkMode: t.launchType === "FARGATE" ? "awsvpc" : "bridge", IPv4Addresses: ["127.0.0.1"] },
    ],
  };
}

function taskMetadata(t: TaskRecord): Record<string, unknown> {
  return {
    Cluster: t.clusterArn,
    TaskARN: t.taskArn,
    Family: t.family,
    Revision: String(t.revision),
    DesiredStatus: t.desiredStatus,
    KnownStatus: t.lastStatus,
    Limits: { CPU: Number(t.cpu ?? 0) / 1024, Memory: Number(t.memory ?? 0) },
    PullStartedAt: iso(t.pullStartedAt),
    PullStoppedAt: iso(t.pullStoppedAt),
    AvailabilityZone: t.availabilityZone,
    LaunchType: t.launchType,
    Containers: t.containers.map((_, i) => containerMetadata(t, i)),
  };
}

/** Answers a GET under /v4/; undefined when the path names no known container. */
export function metadataFor(store: Store, path: string): Record<string, unknown> | undefined {
  const m = /^\/v4\/([0-9a-f]+)-(\d+)(\/task)?\/?$/.exec(path);
  if (!m) return undefined;
  const t = store.byId.get(m[1] as string);
  if (!t) return undefined;
  return m[3] ? taskMetadata(t) : containerMetadata(t, Number(m[2]));
}

/** The environment a task's process starts with, as ECS assembles a container's. */
export function taskEnv(
  opts: ResolvedOptions,
  endpoint: string,
  t: TaskRecord,
  container: ContainerDefinition,
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined) env[k] = v;
  Object.assign(env, opts.taskProcess?.env ?? {});
  const put = (pairs: KeyValuePair[] | undefined): void => {
    for (const p of pairs ?? []) if (p.name) env[p.name] = p.value ?? "";
  };
  put(container.environment);
  put(t.overrides.containerOverrides?.find((o) => o.name === container.name)?.environment);
  const index = Math.max(
    0,
    t.containers.findIndex((c) => c.name === container.name),
  );
  const uri = `${endpoint}/v4/${t.taskId}-${index}`;
  env.ECS_CONTAINER_METADATA_URI_V4 = uri;
  env.ECS_CONTAINER_METADATA_URI = uri;
  env.AWS_REGION = opts.region;
  env.AWS_DEFAULT_REGION = opts.region;
  env.AWS_EXECUTION_ENV = t.launchType === "FARGATE" ? "AWS_ECS_FARGATE" : "AWS_ECS_EC2";
  return env;
}
