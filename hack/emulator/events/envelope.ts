/**
 * ECS Task State Change events as EventBridge delivers them to an SQS target: the envelope
 * (`version`, `id`, `detail-type`, `source`, `account`, `time`, `region`, `resources`) around a
 * `detail` that is the task as DescribeTasks shows it, with times as ISO-8601 strings (not epoch
 * seconds) and `updatedAt`, as in the AWS example in "Amazon ECS task state change events".
 * `detail.version` is the task's version: it grows with every change of the task.
 */
import { randomUUID } from "node:crypto";
import type { TaskRecord } from "../types.js";

export const TASK_STATE_CHANGE = "ECS Task State Change";
export const ECS_SOURCE = "aws.ecs";

export interface TaskStateChangeDetail {
  taskArn: string;
  clusterArn: string;
  lastStatus: string;
  desiredStatus: string;
  version: number;
  [field: string]: unknown;
}

export interface EventEnvelope<D = TaskStateChangeDetail> {
  version: "0";
  id: string;
  "detail-type": string;
  source: string;
  account: string;
  time: string;
  region: string;
  resources: string[];
  detail: D;
}

const iso = (ms: number | undefined): string | undefined =>
  ms === undefined ? undefined : new Date(ms).toISOString();

/** EventBridge's `time`: whole seconds, `Z`. */
const eventTime = (ms: number): string =>
  new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(".000Z", "Z");

/** A task's state right now, as an event (a snapshot: later changes do not alter it). */
export function taskStateChange(
  t: TaskRecord,
  region: string,
  account: string,
  now = Date.now(),
): EventEnvelope {
  const detail: TaskStateChangeDetail = {
    attachments: [],
    attributes: [{ name: "ecs.cpu-architecture", value: "x86_64" }],
    availabilityZone: t.availabilityZone,
    capacityProviderName: t.capacityProviderName,
    clusterArn: t.clusterArn,
    connectivity: t.connectivityAt !== undefined ? "CONNECTED" : undefined,
    connectivityAt: iso(t.connectivityAt),
    containerInstanceArn: t.containerInstanceArn,
    containers: t.containers.map((c) => ({
      containerArn: c.containerArn,
      exitCode: c.exitCode,
      lastStatus: c.lastStatus,
      name: c.name,
      image: c.image,
      runtimeId: c.runtimeId,
      reason: c.reason,
      taskArn: t.taskArn,
      networkInterfaces: [],
      cpu: c.cpu,
      memory: c.memory,
    })),
    cpu: t.cpu,
    createdAt: iso(t.createdAt),
    desiredStatus: t.desiredStatus,
    enableExecuteCommand: false,
    executionStoppedAt: iso(t.executionStoppedAt),
    group: t.group,
    launchType: t.launchType,
    lastStatus: t.lastStatus,
    memory: t.memory,
    overrides: { containerOverrides: [], ...t.overrides },
    platformVersion: t.launchType === "FARGATE" ? "1.4.0" : undefined,
    pullStartedAt: iso(t.pullStartedAt),
    pullStoppedAt: iso(t.pullStoppedAt),
    startedAt: iso(t.startedAt),
    startedBy: t.startedBy,
    stopCode: t.stopCode,
    stoppedAt: iso(t.stoppedAt),
    stoppedReason: t.stoppedReason,
    stoppingAt: iso(t.stoppingAt),
    updatedAt: iso(now),
    taskArn: t.taskArn,
    taskDefinitionArn: t.taskDefinitionArn,
    version: t.version,
    ephemeralStorage: t.launchType === "FARGATE" ? { sizeInGiB: 20 } : undefined,
  };
  // JSON drops undefined fields, as EventBridge omits absent ones.
  return JSON.parse(
    JSON.stringify({
      version: "0",
      id: randomUUID(),
      "detail-type": TASK_STATE_CHANGE,
      source: ECS_SOURCE,
      account,
      time: eventTime(now),
      region,
      resources: [t.taskArn],
      detail,
    }),
  ) as EventEnvelope;
}
