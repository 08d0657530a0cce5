/**
 * Records → ECS response shapes. Timestamps go out as epoch seconds (JSON numbers), as the
 * AWS JSON 1.1 protocol encodes them.
 */
import type { ClusterRecord, TaskDefinitionRecord, TaskRecord } from "./types.js";

export const secs = (ms: number | undefined): number | undefined =>
  ms === undefined ? undefined : ms / 1000;

export function wireTask(t: TaskRecord, withTags: boolean): Record<string, unknown> {
  return {
    attachments: [],
    attributes: [{ name: "ecs.cpu-architecture", value: "x86_64" }],
    availabilityZone: t.availabilityZone,
    capacityProviderName: t.capacityProviderName,
    clusterArn: t.clusterArn,
    connectivity: t.connectivityAt !== undefined ? "CONNECTED" : undefined,
    connectivityAt: secs(t.connectivityAt),
    containerInstanceArn: t.containerInstanceArn,
    containers: t.containers.map((c) => ({
      containerArn: c.containerArn,
      taskArn: t.taskArn,
      name: c.name,
      image: c.image,
      runtimeId: c.runtimeId,
      lastStatus: c.lastStatus,
      exitCode: c.exitCode,
      reason: c.reason,
      networkBindings: [],
      networkInterfaces: [],
      healthStatus: "UNKNOWN",
      cpu: c.cpu,
      memory: c.memory,
    })),
    cpu: t.cpu,
    createdAt: secs(t.createdAt),
    desiredStatus: t.desiredStatus,
    enableExecuteCommand: false,
    executionStoppedAt: secs(t.executionStoppedAt),
    group: t.group,
    healthStatus: "UNKNOWN",
    lastStatus: t.lastStatus,
    launchType: t.launchType,
    memory: t.memory,
    overrides: { containerOverrides: [], inferenceAcceleratorOverrides: [], ...t.overrides },
    platformVersion: t.launchType === "FARGATE" ? "1.4.0" : undefined,
    platformFamily: t.launchType === "FARGATE" ? "Linux" : undefined,
    pullStartedAt: secs(t.pullStartedAt),
    pullStoppedAt: secs(t.pullStoppedAt),
    startedAt: secs(t.startedAt),
    startedBy: t.startedBy,
    stopCode: t.stopCode,
    stoppedAt: secs(t.stoppedAt),
    stoppedReason: t.stoppedReason,
    stoppingAt: secs(t.stoppingAt),
    tags: withTags ? t.tags : undefined,
    taskArn: t.taskArn,
    taskDefinitionArn: t.taskDefinitionArn,
    version: t.version,
    ephemeralStorage: t.launchType === "FARGATE" ? { sizeInGiB: 20 } : undefined,
  };
}

export function wireTaskDefinition(td: TaskDefinitionRecord): Record<string, unknown> {
  return {
    volumes: [],
    placementConstraints: [],
    requiresAttributes: [],
    ...td.extra,
    taskDefinitionArn: td.taskDefinitionArn,
    family: td.family,
    revision: td.revision,
    status: td.status,
    containerDefinitions: td.containerDefinitions,
    networkMode: td.networkMode,
    requiresCompatibilities: td.requiresCompatibilities,
    compatibilities: td.compatibilities,
    cpu: td.cpu,
    memory: td.memory,
    registeredAt: secs(td.registeredAt),
    deregisteredAt: secs(td.deregisteredAt),
  };
}

export function wireCluster(
  c: ClusterRecord,
  tasks: Iterable<TaskRecord>,
  withTags: boolean,
  containerInstances = 0,
): Record<string, unknown> {
  let running = 0;
  let pending = 0;
  for (const t of tasks) {
    if (t.lastStatus === "RUNNING") running++;
    else if (t.lastStatus === "PENDING" || t.lastStatus === "PROVISIONING") pending++;
  }
  return {
    clusterArn: c.clusterArn,
    clusterName: c.clusterName,
    status: c.status,
    registeredContainerInstancesCount: containerInstances,
    runningTasksCount: running,
    pendingTasksCount: pending,
    activeServicesCount: 0,
    statistics: [],
    tags: withTags ? c.tags : [],
    settings: [{ name: "containerInsights", value: "disabled" }],
    capacityProviders: c.capacityProviders ?? [],
    defaultCapacityProviderStrategy: [],
  };
}
