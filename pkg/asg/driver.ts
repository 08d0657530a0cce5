/**
 * The capacity driver: EC2 Auto Scaling (AWS Query protocol) and the ECS container-instance
 * reads, through the real SDK clients, every call rate-limited and retried by `Caller`. The
 * SDKs' own retries are off (maxAttempts 1) so every attempt is seen and counted here.
 */
import {
  AutoScalingClient,
  DescribeAutoScalingGroupsCommand,
  DescribeWarmPoolCommand,
  PutWarmPoolCommand,
  SetDesiredCapacityCommand,
  SetInstanceProtectionCommand,
  type Instance as AsgInstance,
} from "@aws-sdk/client-auto-scaling";
import {
  DescribeContainerInstancesCommand,
  DescribeTaskDefinitionCommand,
  ECSClient,
  ListContainerInstancesCommand,
  type Resource,
} from "@aws-sdk/client-ecs";
import type { ContainerInstance, GroupInstance, TaskSize, WarmPoolConfig } from "../capacity/index.js";
import type { BucketLimit, CallBudget, RetryPolicy } from "../ecs/index.js";
import { Caller, type CallerMetrics } from "../ecs/index.js";
import {
  ASG_API_FAMILY,
  ASG_DEFAULT_LIMITS,
  WARM_POOL_PAGE,
  type AsgApi,
  type AsgFamily,
  type ClusterCapacityReader,
  type GroupReader,
  type GroupWriter,
  type PutWarmPoolInput,
} from "./types.js";

export interface AsgDriverOptions {
  pool: string;
  /** ECS cluster whose container instances the group's instances register into. */
  cluster: string;
  autoScaling?: AutoScalingClient;
  ecs?: ECSClient;
  region?: string;
  /** One endpoint for both APIs (the emulator serves ECS and Auto Scaling on one port). */
  endpoint?: string;
  limits?: Partial<Record<AsgFamily, BucketLimit>>;
  /**
   * The account's shared budgets (pkg/budget) per family, spent after the local bucket: with many
   * pools, `asg-read` and `asg-write` both draw from the one Auto Scaling budget (AWS throttles
   * every EC2 Auto Scaling call from one bucket), `ecs-read` from the ECS read budget.
   */
  budgets?: Partial<Record<AsgFamily, CallBudget>>;
  retry?: Partial<RetryPolicy>;
  metrics?: CallerMetrics;
  signal?: AbortSignal;
  /** Per-attempt answer timeout (default 15 s); a call with no answer is retried as transient. */
  requestTimeoutMs?: number;
}

const UNSUPPORTED = new Set(["InvalidAction", "UnknownOperationException", "UnsupportedOperation"]);

export class AsgDriver implements GroupReader, GroupWriter, ClusterCapacityReader {
  readonly autoScaling: AutoScalingClient;
  readonly ecs: ECSClient;
  private readonly caller: Caller<AsgApi, AsgFamily>;
  private readonly sizes = new Map<string, TaskSize>();
  private protection = true;

  constructor(private readonly opts: AsgDriverOptions) {
    const region = opts.region ?? process.env.AWS_REGION ?? "us-east-1";
    const common = {
      region,
      maxAttempts: 1,
      ...(opts.endpoint ? { endpoint: opts.endpoint } : {}),
      // A hung call would hold the capacity pass (and shutdown) forever. Without
      // throwOnRequestTimeout the SDK only logs a warning and keeps waiting (as in pkg/ecs/driver.ts).
      requestHandler: {
        requestTimeout: opts.requestTimeoutMs ?? 15_000,
        throwOnRequestTimeout: true,
        connectionTimeout: 5_000,
      },
    };
    this.autoScaling = opts.autoScaling ?? new AutoScalingClient(common);
    this.ecs = opts.ecs ?? new ECSClient(common);
    this.caller = new Caller((api: AsgApi) => ASG_API_FAMILY[api], {
      pool: opts.pool,
      limits: {
        "asg-read": { ...ASG_DEFAULT_LIMITS["asg-read"], ...opts.limits?.["asg-read"] },
        "asg-write": { ...ASG_DEFAULT_LIMITS["asg-write"], ...opts.limits?.["asg-write"] },
        "ecs-read": { ...ASG_DEFAULT_LIMITS["ecs-read"], ...opts.limits?.["ecs-read"] },
      },
      ...(opts.budgets ? { shared: opts.budgets } : {}),
      ...(opts.retry ? { retry: opts.retry } : {}),
      ...(opts.metrics ? { metrics: opts.metrics } : {}),
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
  }

  get protectionSupported(): boolean {
    return this.protection;
  }

  async describeGroup(name: string): ReturnType<GroupReader["describeGroup"]> {
    const out = await this.caller.call("DescribeAutoScalingGroups", () =>
      this.autoScaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [name] })),
    );
    const g = (out.AutoScalingGroups ?? []).find((x) => x.AutoScalingGroupName === name);
    if (!g) return undefined;
    return {
      name,
      minSize: g.MinSize ?? 0,
      maxSize: g.MaxSize ?? 0,
      desiredCapacity: g.DesiredCapacity ?? 0,
      instances: (g.Instances ?? []).map(toInstance),
    };
  }

  async describeWarmPool(name: string): ReturnType<GroupReader["describeWarmPool"]> {
    const instances: GroupInstance[] = [];
    let config: WarmPoolConfig | undefined;
    let token: string | undefined;
    do {
      const next = token;
      const out = await this.caller.call("DescribeWarmPool", () =>
        this.autoScaling.send(
          new DescribeWarmPoolCommand({
            AutoScalingGroupName: name,
            MaxRecords: WARM_POOL_PAGE,
            ...(next ? { NextToken: next } : {}),
          }),
        ),
      );
      const c = out.WarmPoolConfiguration;
      if (c && config === undefined && c.PoolState !== undefined) {
        config = {
          minSize: c.MinSize ?? 0,
          poolState: c.PoolState,
          reuseOnScaleIn: c.InstanceReusePolicy?.ReuseOnScaleIn ?? false,
          ...(c.MaxGroupPreparedCapacity !== undefined
            ? { maxGroupPreparedCapacity: c.MaxGroupPreparedCapacity }
            : {}),
          ...(c.Status ? { status: c.Status } : {}),
        };
      }
      instances.push(...(out.Instances ?? []).map(toInstance));
      token = out.NextToken;
    } while (token);
    return { ...(config ? { config } : {}), instances };
  }

  /** PutWarmPool without InstanceReusePolicy: ECS groups may not reuse instances on scale in. */
  async putWarmPool(input: PutWarmPoolInput): Promise<void> {
    await this.caller.call("PutWarmPool", () =>
      this.autoScaling.send(
        new PutWarmPoolCommand({
          AutoScalingGroupName: input.groupName,
          MinSize: input.minSize,
          MaxGroupPreparedCapacity: input.maxGroupPreparedCapacity,
          PoolState: input.poolState,
        }),
      ),
    );
  }

  async setDesiredCapacity(groupName: string, desiredCapacity: number): Promise<void> {
    await this.caller.call("SetDesiredCapacity", () =>
      this.autoScaling.send(
        new SetDesiredCapacityCommand({
          AutoScalingGroupName: groupName,
          DesiredCapacity: desiredCapacity,
          HonorCooldown: false,
        }),
      ),
    );
  }

  /** SetInstanceProtection, 50 instances a call (the API's limit). */
  async setInstanceProtection(groupName: string, instanceIds: string[], protect: boolean): Promise<void> {
    for (let i = 0; i < instanceIds.length; i += 50) {
      const ids = instanceIds.slice(i, i + 50);
      try {
        await this.caller.call("SetInstanceProtection", () =>
          this.autoScaling.send(
            new SetInstanceProtectionCommand({
              AutoScalingGroupName: groupName,
              InstanceIds: ids,
              ProtectedFromScaleIn: protect,
            }),
          ),
        );
      } catch (err) {
        if (UNSUPPORTED.has((err as { name?: string }).name ?? "")) this.protection = false;
        throw new Error(`setting scale-in protection ${protect} on ${ids.length} instance(s)`, {
          cause: err,
        });
      }
    }
  }

  /** Every container instance of the cluster that is not INACTIVE, with its resources. */
  async containerInstances(): Promise<ContainerInstance[]> {
    const arns: string[] = [];
    let token: string | undefined;
    do {
      const next = token;
      const out = await this.caller.call("ListContainerInstances", () =>
        this.ecs.send(
          new ListContainerInstancesCommand({
            cluster: this.opts.cluster,
            maxResults: 100,
            ...(next ? { nextToken: next } : {}),
          }),
        ),
      );
      arns.push(...(out.containerInstanceArns ?? []));
      token = out.nextToken;
    } while (token);
    const out: ContainerInstance[] = [];
    for (let i = 0; i < arns.length; i += 100) {
      const batch = arns.slice(i, i + 100);
      const res = await this.caller.call("DescribeContainerInstances", () =>
        this.ecs.send(
          new DescribeContainerInstancesCommand({ cluster: this.opts.cluster, containerInstances: batch }),
        ),
      );
      for (const c of res.containerInstances ?? []) {
        if (!c.containerInstanceArn) continue;
        out.push({
          containerInstanceArn: c.containerInstanceArn,
          ...(c.ec2InstanceId ? { ec2InstanceId: c.ec2InstanceId } : {}),
          status: c.status ?? "UNKNOWN",
          registered: resources(c.registeredResources),
          remaining: resources(c.remainingResources),
          tasks: (c.runningTasksCount ?? 0) + (c.pendingTasksCount ?? 0),
          ...(c.registeredAt ? { registeredAtMs: c.registeredAt.getTime() } : {}),
        });
      }
    }
    return out;
  }

  /** CPU units and MiB a task reserves: task level, else the sum over its containers. Cached by ARN. */
  async taskSize(taskDefinition: string): Promise<TaskSize> {
    const cached = this.sizes.get(taskDefinition);
    if (cached) return cached;
    const out = await this.caller.call("DescribeTaskDefinition", () =>
      this.ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition })),
    );
    const td = out.taskDefinition;
    if (!td) throw new Error(`task definition ${taskDefinition} not in ECS's answer`);
    const containers = td.containerDefinitions ?? [];
    const size: TaskSize = {
      cpu: td.cpu ? Number(td.cpu) : containers.reduce((n, c) => n + (c.cpu ?? 0), 0),
      memory: td.memory
        ? Number(td.memory)
        : containers.reduce((n, c) => n + (c.memory ?? c.memoryReservation ?? 0), 0),
    };
    if (/:\d+$/.test(taskDefinition)) this.sizes.set(taskDefinition, size);
    return size;
  }

  async idle(): Promise<void> {
    await this.caller.idle();
  }

  destroy(): void {
    this.caller.clear();
    if (!this.opts.autoScaling) this.autoScaling.destroy();
    if (!this.opts.ecs) this.ecs.destroy();
  }
}

function toInstance(i: AsgInstance): GroupInstance {
  return {
    instanceId: i.InstanceId ?? "",
    lifecycleState: i.LifecycleState ?? "Unknown",
    protectedFromScaleIn: i.ProtectedFromScaleIn ?? false,
  };
}

function resources(rs: Resource[] | undefined): { cpu: number; memory: number } {
  const get = (name: string): number => rs?.find((r) => r.name === name)?.integerValue ?? 0;
  return { cpu: get("CPU"), memory: get("MEMORY") };
}
