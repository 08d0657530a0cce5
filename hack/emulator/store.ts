/**
 * Everything the emulated account holds: clusters, task definitions, tasks. It knows how ECS
 * spells ARNs and which identifiers (short name, family:revision, full ARN) name what.
 */
import { randomBytes } from "node:crypto";
import { clientError, clusterNotFound, invalidParameter } from "./errors.js";
import type { ClusterRecord, TaskDefinitionRecord, TaskRecord } from "./types.js";

/** The first successful RunTask with a client token, replayed to retries within 24 h. */
export interface RunTokenRecord {
  fingerprint: string;
  at: number;
  taskIds: string[];
  failures: { arn?: string; reason: string }[];
}

export class Store {
  readonly clusters = new Map<string, ClusterRecord>();
  /** family → revisions in order (index = revision − 1). */
  readonly taskDefinitions = new Map<string, TaskDefinitionRecord[]>();
  /** Tasks still visible through the API, per cluster name, in creation order. */
  readonly tasksByCluster = new Map<string, Map<string, TaskRecord>>();
  /** Every task ever created, stopped and expired ones included: ground truth. */
  readonly allTasks: TaskRecord[] = [];
  /** RunTask client tokens per cluster: what the first call with each token launched. */
  readonly runTokens = new Map<string, Map<string, RunTokenRecord>>();
  /** Every task ever created, by task id. */
  readonly byId = new Map<string, TaskRecord>();
  private seq = 0;

  constructor(
    readonly region: string,
    readonly accountId: string,
  ) {
    this.createCluster("default");
  }

  arn(resource: string): string {
    return `arn:aws:ecs:${this.region}:${this.accountId}:${resource}`;
  }

  createCluster(name: string): ClusterRecord {
    const existing = this.clusters.get(name);
    if (existing && existing.status === "ACTIVE") return existing;
    const c: ClusterRecord = {
      clusterArn: this.arn(`cluster/${name}`),
      clusterName: name,
      status: "ACTIVE",
      tags: [],
    };
    this.clusters.set(name, c);
    if (!this.tasksByCluster.has(name)) this.tasksByCluster.set(name, new Map());
    return c;
  }

  /** The cluster a request names (short name or ARN; omitted = "default"). */
  cluster(ref: string | undefined): ClusterRecord {
    const name = clusterName(ref ?? "default");
    const c = this.clusters.get(name);
    if (!c || c.status !== "ACTIVE") throw clusterNotFound();
    return c;
  }

  tasksOf(cluster: ClusterRecord): Map<string, TaskRecord> {
    let m = this.tasksByCluster.get(cluster.clusterName);
    if (!m) this.tasksByCluster.set(cluster.clusterName, (m = new Map()));
    return m;
  }

  /** Records a new task in its cluster and in the ground truth. */
  addTask(t: TaskRecord): void {
    this.tasksOf(this.cluster(t.clusterName)).set(t.taskId, t);
    this.allTasks.push(t);
    this.byId.set(t.taskId, t);
  }

  nextSeq(): number {
    return ++this.seq;
  }

  newTaskId(): string {
    return randomBytes(16).toString("hex");
  }

  /** Resolves `family`, `family:revision` or a task-definition ARN; `what` picks the error ECS gives. */
  taskDefinition(ref: string, notFoundMessage = "Unable to describe task definition."): TaskDefinitionRecord {
    const m =
      /^(?:arn:aws[\w-]*:ecs:[\w-]+:\d{12}:task-definition\/)?([A-Za-z0-9_-]{1,255})(?::(\d+))?$/.exec(ref);
    if (!m) throw clientError(notFoundMessage);
    const revs = this.taskDefinitions.get(m[1] as string);
    if (!revs) throw clientError(notFoundMessage);
    if (m[2] !== undefined) {
      const td = revs[Number(m[2]) - 1];
      if (!td) throw clientError(notFoundMessage);
      return td;
    }
    for (let i = revs.length - 1; i >= 0; i--)
      if (revs[i]?.status === "ACTIVE") return revs[i] as TaskDefinitionRecord;
    throw clientError(notFoundMessage);
  }

  /** Drops tasks stopped longer ago than `retentionMs` from the API's view (ground truth keeps them). */
  expireStopped(now: number, retentionMs: number): void {
    for (const tasks of this.tasksByCluster.values())
      for (const [id, t] of tasks)
        if (t.lastStatus === "STOPPED" && t.stoppedAt !== undefined && now - t.stoppedAt >= retentionMs)
          tasks.delete(id);
  }
}

/** The short name in a cluster reference (name or ARN). */
export function clusterName(ref: string): string {
  const m = /^arn:aws[\w-]*:ecs:[\w-]+:\d{12}:cluster\/(.+)$/.exec(ref);
  return m ? (m[1] as string) : ref;
}

/** The task id in a task reference (id or ARN, old or new format); ECS's error otherwise. */
export function taskIdOf(ref: string): string {
  const m =
    /^(?:arn:aws[\w-]*:ecs:[\w-]+:\d{12}:task\/(?:[A-Za-z0-9_-]+\/)?)?([0-9a-f]{32}|[0-9a-f-]{36})$/.exec(
      ref,
    );
  if (!m) throw invalidParameter("Task Identifier is invalid");
  return m[1] as string;
}
