/** What every ECS operation handler works with. */
import type { FaultBook } from "./faults.js";
import type { Lifecycle } from "./lifecycle.js";
import type { ResolvedOptions } from "./options.js";
import type { Store } from "./store.js";
import type { TokenBucket } from "./token-bucket.js";
import type { ClusterRecord, TaskRecord } from "./types.js";

/** Where a task was placed. */
export interface Placed {
  containerInstanceArn: string;
  availabilityZone?: string;
}

/**
 * Places EC2 tasks on registered container instances. Without one (or when a cluster has no
 * instances) EC2 capacity is unlimited and virtual.
 */
export interface Placement {
  /** An instance with room for the task, or the failure ECS reports; undefined = no instances here. */
  place(
    cluster: ClusterRecord,
    cpu: number,
    memory: number,
  ): Placed | { failure: { arn?: string; reason: string } } | undefined;
  /** StartTask: room on one named instance, or the failure (MISSING, RESOURCE:*). */
  placeOn(
    cluster: ClusterRecord,
    containerInstance: string,
    cpu: number,
    memory: number,
  ): Placed | { failure: { arn?: string; reason: string } };
  /** Records a placed task's reservation (after place() chose its instance). */
  bind(task: TaskRecord, cpu: number, memory: number): void;
  release(task: TaskRecord): void;
  /** ACTIVE container instances registered in a cluster. */
  activeCount(clusterName: string): number;
}

export interface EcsContext {
  store: Store;
  opts: ResolvedOptions;
  lifecycle: Lifecycle;
  faults: FaultBook;
  /** Fargate launches, counted per task; undefined when throttling is off. */
  fargateBucket: TokenBucket | undefined;
  placement?: Placement;
  /** Tasks created by RunTask (ground truth). */
  launched: { count: number };
}

export type EcsHandler = (ctx: EcsContext, input: Record<string, unknown>) => unknown;
