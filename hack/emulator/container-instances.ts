/**
 * ECS container instances: the EC2 capacity of a cluster, registered by the Auto Scaling
 * emulator for each InService instance. It places EC2-launch-type tasks by binpacking on
 * memory, reserving CPU and memory until the task stops, and reports `RESOURCE:CPU` /
 * `RESOURCE:MEMORY` when no instance has room. A cluster no group has ever fed keeps
 * unlimited virtual EC2 capacity.
 */
import { randomBytes } from "node:crypto";
import { invalidParameter } from "./errors.js";
import type { EcsContext, EcsHandler, Placed, Placement } from "./ecs-context.js";
import { secs } from "./ecs-wire.js";
import type { Store } from "./store.js";
import type { ClusterRecord, TaskRecord } from "./types.js";
import { optInt, optString, optStringArray } from "./validate.js";

export interface ContainerInstanceRecord {
  containerInstanceArn: string;
  id: string;
  clusterName: string;
  ec2InstanceId: string;
  instanceType: string;
  availabilityZone: string;
  cpu: number;
  memory: number;
  remainingCpu: number;
  remainingMemory: number;
  status: "ACTIVE" | "DRAINING" | "INACTIVE";
  registeredAt: number;
  /** Tasks placed here and not yet STOPPED: id → {cpu, memory}. */
  tasks: Map<string, { cpu: number; memory: number }>;
  version: number;
}

export class ContainerInstances implements Placement {
  /** By cluster name, in registration order. */
  private readonly byCluster = new Map<string, Map<string, ContainerInstanceRecord>>();
  /** Clusters whose EC2 capacity is real (some group registers instances into them). */
  private readonly managed = new Set<string>();

  constructor(private readonly store: Store) {}

  /** Marks a cluster as fed by an Auto Scaling group: from now on EC2 tasks need an instance there. */
  manage(clusterName: string): void {
    this.managed.add(clusterName);
  }

  of(clusterName: string): Map<string, ContainerInstanceRecord> {
    let m = this.byCluster.get(clusterName);
    if (!m) this.byCluster.set(clusterName, (m = new Map()));
    return m;
  }

  register(
    clusterName: string,
    ec2InstanceId: string,
    instanceType: string,
    availabilityZone: string,
    capacity: { cpu: number; memory: number },
  ): ContainerInstanceRecord {
    this.store.createCluster(clusterName);
    this.manage(clusterName);
    const id = randomBytes(16).toString("hex");
    const ci: ContainerInstanceRecord = {
      containerInstanceArn: this.store.arn(`container-instance/${clusterName}/${id}`),
      id,
      clusterName,
      ec2InstanceId,
      instanceType,
      availabilityZone,
      cpu: capacity.cpu,
      memory: capacity.memory,
      remainingCpu: capacity.cpu,
      remainingMemory: capacity.memory,
      status: "ACTIVE",
      registeredAt: Date.now(),
      tasks: new Map(),
      version: 1,
    };
    this.of(clusterName).set(id, ci);
    return ci;
  }

  /** The instance left service: no more placements; returns the ids of the tasks still on it. */
  deregister(ci: ContainerInstanceRecord): string[] {
    ci.status = "INACTIVE";
    ci.version += 1;
    return [...ci.tasks.keys()];
  }

  place(
    cluster: ClusterRecord,
    cpu: number,
    memory: number,
  ): Placed | { failure: { arn?: string; reason: string } } | undefined {
    if (!this.managed.has(cluster.clusterName)) return undefined;
    const active = [...this.of(cluster.clusterName).values()].filter((c) => c.status === "ACTIVE");
    if (active.length === 0) throw invalidParameter("No Container Instances were found in your cluster.");
    // Binpack on memory: the instance with the least memory left that still fits.
    let best: ContainerInstanceRecord | undefined;
    for (const c of active)
      if (
        c.remainingCpu >= cpu &&
        c.remainingMemory >= memory &&
        (!best || c.remainingMemory < best.remainingMemory)
      )
        best = c;
    if (!best) {
      const cpuFits = active.some((c) => c.remainingCpu >= cpu);
      return {
        failure: {
          arn: active[0]?.containerInstanceArn,
          reason: cpuFits ? "RESOURCE:MEMORY" : "RESOURCE:CPU",
        },
      };
    }
    return this.reserve(best, cpu, memory);
  }

  placeOn(
    cluster: ClusterRecord,
    ref: string,
    cpu: number,
    memory: number,
  ): Placed | { failure: { arn?: string; reason: string } } {
    const ci = this.of(cluster.clusterName).get(ref.split("/").pop() as string);
    if (!ci || ci.status !== "ACTIVE") return { failure: { arn: ref, reason: "MISSING" } };
    if (ci.remainingCpu < cpu) return { failure: { arn: ci.containerInstanceArn, reason: "RESOURCE:CPU" } };
    if (ci.remainingMemory < memory)
      return { failure: { arn: ci.containerInstanceArn, reason: "RESOURCE:MEMORY" } };
    return this.reserve(ci, cpu, memory);
  }

  private reserve(ci: ContainerInstanceRecord, cpu: number, memory: number): Placed {
    ci.remainingCpu -= cpu;
    ci.remainingMemory -= memory;
    ci.version += 1;
    return { containerInstanceArn: ci.containerInstanceArn, availabilityZone: ci.availabilityZone };
  }

  /** Called once a task is placed, so its reservation can be found again at release. */
  bind(task: TaskRecord, cpu: number, memory: number): void {
    const ci = this.find(task.containerInstanceArn);
    ci?.tasks.set(task.taskId, { cpu, memory });
  }

  release(task: TaskRecord): void {
    const ci = this.find(task.containerInstanceArn);
    const r = ci?.tasks.get(task.taskId);
    if (!ci || !r) return;
    ci.tasks.delete(task.taskId);
    ci.remainingCpu += r.cpu;
    ci.remainingMemory += r.memory;
    ci.version += 1;
  }

  activeCount(clusterName: string): number {
    let n = 0;
    for (const c of this.of(clusterName).values()) if (c.status === "ACTIVE") n++;
    return n;
  }

  find(ref: string | undefined): ContainerInstanceRecord | undefined {
    if (!ref) return undefined;
    const id = ref.split("/").pop() as string;
    for (const m of this.byCluster.values()) {
      const ci = m.get(id);
      if (ci) return ci;
    }
    return undefined;
  }

  all(): ContainerInstanceRecord[] {
    return [...this.byCluster.values()].flatMap((m) => [...m.values()]);
  }
}

function wireInstance(ci: ContainerInstanceRecord, store: Store): Record<string, unknown> {
  let running = 0;
  let pending = 0;
  for (const id of ci.tasks.keys()) {
    const t = store.byId.get(id);
    if (t?.lastStatus === "RUNNING") running++;
    else pending++;
  }
  const res = (cpu: number, mem: number): Record<string, unknown>[] => [
    { name: "CPU", type: "INTEGER", integerValue: cpu },
    { name: "MEMORY", type: "INTEGER", integerValue: mem },
    { name: "PORTS", type: "STRINGSET", stringSetValue: ["22", "2375", "2376", "51678", "51679"] },
    { name: "PORTS_UDP", type: "STRINGSET", stringSetValue: [] },
  ];
  return {
    containerInstanceArn: ci.containerInstanceArn,
    ec2InstanceId: ci.ec2InstanceId,
    version: ci.version,
    versionInfo: { agentVersion: "1.86.0", agentHash: "emulated", dockerVersion: "DockerVersion: 20.10.25" },
    remainingResources: res(ci.remainingCpu, ci.remainingMemory),
    registeredResources: res(ci.cpu, ci.memory),
    status: ci.status,
    agentConnected: ci.status === "ACTIVE",
    runningTasksCount: running,
    pendingTasksCount: pending,
    attributes: [
      { name: "ecs.instance-type", value: ci.instanceType },
      { name: "ecs.availability-zone", value: ci.availabilityZone },
      { name: "ecs.os-type", value: "linux" },
    ],
    registeredAt: secs(ci.registeredAt),
    attachments: [],
    tags: [],
  };
}

const instancesOf = (ctx: EcsContext): ContainerInstances => {
  const p = ctx.placement;
  if (!(p instanceof ContainerInstances)) throw new Error("container instances are not enabled");
  return p;
};

export const listContainerInstances: EcsHandler = (ctx, input) => {
  const cluster = ctx.store.cluster(optString(input, "cluster"));
  const max = optInt(input, "maxResults");
  if (max !== undefined && (max < 1 || max > 100))
    throw invalidParameter("maxResults must be between 1 and 100.");
  const status = optString(input, "status");
  const statuses = ["ACTIVE", "DRAINING", "REGISTERING", "DEREGISTERING", "REGISTRATION_FAILED"];
  if (status !== undefined && !statuses.includes(status))
    throw invalidParameter(`status must be one of ${statuses.join(", ")}.`);
  if (optString(input, "filter") !== undefined)
    throw invalidParameter("filter expressions are not supported here.");
  const arns = [...instancesOf(ctx).of(cluster.clusterName).values()]
    .filter((c) => (status ? c.status === status : c.status !== "INACTIVE"))
    .map((c) => c.containerInstanceArn);
  const start = Number(optString(input, "nextToken") ?? 0);
  if (!Number.isInteger(start) || start < 0) throw invalidParameter("Invalid token");
  const end = start + (max ?? 100);
  return {
    containerInstanceArns: arns.slice(start, end),
    nextToken: end < arns.length ? String(end) : undefined,
  };
};

export const describeContainerInstances: EcsHandler = (ctx, input) => {
  const cluster = ctx.store.cluster(optString(input, "cluster"));
  const refs = optStringArray(input, "containerInstances");
  if (!refs || refs.length === 0) throw invalidParameter("Container instances cannot be empty.");
  if (refs.length > 100) throw invalidParameter("At most 100 container instances can be described at once.");
  const mine = instancesOf(ctx).of(cluster.clusterName);
  const containerInstances: Record<string, unknown>[] = [];
  const failures: { arn: string; reason: string }[] = [];
  for (const ref of refs) {
    const ci = mine.get(ref.split("/").pop() as string);
    if (ci) containerInstances.push(wireInstance(ci, ctx.store));
    else failures.push({ arn: ref, reason: "MISSING" });
  }
  return { containerInstances, failures };
};
