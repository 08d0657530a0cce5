/**
 * The emulator's records. Times are epoch milliseconds inside; the wire speaks epoch seconds.
 * JSON shapes follow the ECS service model (ecs/2014-11-13/service-2.json).
 */
import type { LaunchType } from "./options.js";

export interface Tag {
  key: string;
  value?: string;
}

export interface KeyValuePair {
  name?: string;
  value?: string;
}

/** A container definition as registered; only the fields the emulator acts on are typed. */
export interface ContainerDefinition {
  name?: string;
  image?: string;
  cpu?: number;
  memory?: number;
  memoryReservation?: number;
  essential?: boolean;
  environment?: KeyValuePair[];
  stopTimeout?: number;
  [field: string]: unknown;
}

export interface TaskDefinitionRecord {
  taskDefinitionArn: string;
  family: string;
  revision: number;
  status: "ACTIVE" | "INACTIVE" | "DELETE_IN_PROGRESS";
  containerDefinitions: ContainerDefinition[];
  networkMode?: string;
  requiresCompatibilities?: string[];
  compatibilities: string[];
  cpu?: string;
  memory?: string;
  registeredAt: number;
  deregisteredAt?: number;
  tags: Tag[];
  /** Every other field of the registration, echoed back as given. */
  extra: Record<string, unknown>;
}

export interface ClusterRecord {
  clusterArn: string;
  clusterName: string;
  status: "ACTIVE" | "INACTIVE";
  tags: Tag[];
  settings?: unknown;
  capacityProviders?: string[];
}

export type TaskStatus =
  | "PROVISIONING"
  | "PENDING"
  | "ACTIVATING"
  | "RUNNING"
  | "DEACTIVATING"
  | "STOPPING"
  | "DEPROVISIONING"
  | "STOPPED";

export interface ContainerOverride {
  name?: string;
  command?: string[];
  environment?: KeyValuePair[];
  [field: string]: unknown;
}

export interface TaskOverride {
  containerOverrides?: ContainerOverride[];
  [field: string]: unknown;
}

export interface ContainerRecord {
  containerArn: string;
  name: string;
  image?: string;
  runtimeId: string;
  lastStatus: string;
  exitCode?: number;
  reason?: string;
  cpu?: string;
  memory?: string;
}

export interface TaskRecord {
  /** Creation order in the whole emulator; pagination cursors refer to it. */
  seq: number;
  taskArn: string;
  taskId: string;
  clusterArn: string;
  clusterName: string;
  taskDefinitionArn: string;
  family: string;
  revision: number;
  launchType: LaunchType;
  capacityProviderName?: string;
  startedBy?: string;
  group: string;
  tags: Tag[];
  overrides: TaskOverride;
  cpu?: string;
  memory?: string;
  availabilityZone: string;
  containerInstanceArn?: string;
  lastStatus: TaskStatus;
  desiredStatus: "RUNNING" | "STOPPED";
  createdAt: number;
  /** When ListTasks starts to show the task (createdAt + visibility lag). */
  listableAt: number;
  pullStartedAt?: number;
  pullStoppedAt?: number;
  connectivityAt?: number;
  startedAt?: number;
  stoppingAt?: number;
  executionStoppedAt?: number;
  stoppedAt?: number;
  stopCode?: string;
  stoppedReason?: string;
  version: number;
  containers: ContainerRecord[];
  /** Every lastStatus the task took, with when: ground truth for lifecycle tests. */
  history: { status: TaskStatus; at: number }[];
  /** The local process standing in for the essential container, when tasks are process-backed. */
  pid?: number;
}
