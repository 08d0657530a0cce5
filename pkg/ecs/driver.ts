import {
  DescribeTaskDefinitionCommand,
  DescribeTasksCommand,
  ECSClient,
  ListTasksCommand,
  RunTaskCommand,
  StopTaskCommand,
  type CapacityProviderStrategyItem,
  type LaunchType,
  type PlacementStrategy,
  type RunTaskCommandInput,
} from "@aws-sdk/client-ecs";
import type { Metrics } from "../metrics/index.js";
import type { EcsTask } from "../plan/index.js";
import { Caller, type RetryPolicy } from "./caller.js";
import type { CallBudget } from "./token-bucket.js";
import { isPoolTask, poolGroup, taskIdOf, toEcsTask } from "./to-ecs-task.js";
import {
  API_FAMILY,
  ECS_DEFAULT_LIMITS,
  type ApiFamily,
  type BucketLimit,
  type DescribedTasks,
  type EcsApi,
  type ListTasksPage,
  type RunTaskInput,
  type RunTaskResult,
  type TaskReader,
  type TaskWriter,
} from "./types.js";

export interface NetworkConfig {
  subnets: string[];
  securityGroups?: string[];
  assignPublicIp?: boolean;
}

/** Either a launch type or a capacity provider strategy (ECS refuses both at once). */
export type Placement =
  | { launchType: LaunchType }
  | { capacityProviderStrategy: CapacityProviderStrategyItem[] }
  | Record<string, never>;

export interface EcsDriverOptions {
  cluster: string;
  pool: string;
  /** A ready client, or region/endpoint to build one (endpoint: the emulator or a VPC endpoint). */
  client?: ECSClient;
  region?: string;
  endpoint?: string;
  network?: NetworkConfig;
  placement?: Placement;
  /**
   * RunTask `placementStrategy` (EC2 capacity: e.g. binpack on memory, so instances empty out for
   * scale-in). Never sent with `launchType: FARGATE`, which refuses it.
   */
  placementStrategy?: PlacementStrategy[];
  limits?: Partial<Record<ApiFamily, BucketLimit>>;
  /** The account's shared budget per family (pkg/budget), spent after the local bucket. */
  budgets?: Partial<Record<ApiFamily, CallBudget>>;
  /** Calls in flight at once per family. */
  concurrency?: number;
  retry?: Partial<RetryPolicy>;
  metrics?: Metrics;
  /** Per-call timeout of the client the driver builds (default 15 s). */
  requestTimeoutMs?: number;
  /** Aborts queued and backing-off calls on shutdown. */
  signal?: AbortSignal;
}

/**
 * The ECS driver: every call of the pool goes through a rate-limited queue for its API family
 * (a p-queue in front of a token bucket sized like ECS's), retries throttling and 5xx with
 * full-jitter backoff, and counts each attempt in warmpool_aws_requests_total{api,outcome}.
 * The SDK's own retries are off (maxAttempts 1) so that every attempt is seen and counted here.
 */
export class EcsDriver implements TaskReader, TaskWriter {
  readonly client: ECSClient;
  private readonly caller: Caller<EcsApi, ApiFamily>;
  /** RunTask failures since start, by reason (read by the reconciler for backoff and status). */
  readonly runFailures = new Map<string, { count: number; lastAtMs: number }>();

  constructor(private readonly opts: EcsDriverOptions) {
    this.client =
      opts.client ??
      new ECSClient({
        region: opts.region ?? process.env.AWS_REGION ?? "us-east-1",
        ...(opts.endpoint ? { endpoint: opts.endpoint } : {}),
        maxAttempts: 1,
        // A hung call would hold the pass (and shutdown) forever; a timeout is a transient error.
        // Without throwOnRequestTimeout the SDK only logs a warning when requestTimeout passes and
        // keeps waiting for the answer (test/ecs/lost-answer.test.ts).
        requestHandler: {
          requestTimeout: opts.requestTimeoutMs ?? 15_000,
          throwOnRequestTimeout: true,
          connectionTimeout: 5_000,
        },
      });
    const limit = (f: ApiFamily): BucketLimit => ({ ...ECS_DEFAULT_LIMITS[f], ...opts.limits?.[f] });
    this.caller = new Caller((api: EcsApi) => API_FAMILY[api], {
      pool: opts.pool,
      limits: { read: limit("read"), write: limit("write") },
      ...(opts.budgets ? { shared: opts.budgets } : {}),
      concurrency: opts.concurrency ?? 10,
      ...(opts.retry ? { retry: opts.retry } : {}),
      ...(opts.metrics ? { metrics: opts.metrics } : {}),
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
  }

  async listTasks(input: {
    desiredStatus: "RUNNING" | "STOPPED";
    nextToken?: string;
  }): Promise<ListTasksPage> {
    const out = await this.call("ListTasks", () =>
      this.client.send(
        new ListTasksCommand({
          cluster: this.opts.cluster,
          startedBy: this.opts.pool,
          desiredStatus: input.desiredStatus,
          maxResults: 100,
          ...(input.nextToken ? { nextToken: input.nextToken } : {}),
        }),
      ),
    );
    return { taskArns: out.taskArns ?? [], ...(out.nextToken ? { nextToken: out.nextToken } : {}) };
  }

  async describeTasks(taskArns: string[]): Promise<DescribedTasks> {
    if (taskArns.length === 0) return { tasks: [], missing: [], foreign: [] };
    if (taskArns.length > 100)
      throw new Error(`DescribeTasks takes at most 100 tasks, got ${taskArns.length}`);
    const out = await this.call("DescribeTasks", () =>
      this.client.send(new DescribeTasksCommand({ cluster: this.opts.cluster, tasks: taskArns })),
    );
    // Only MISSING is an answer ("gone for good"); any other failure leaves that task unknown, so
    // the whole answer is partial: the caller acts on nothing destructive.
    const other = (out.failures ?? []).filter((f) => f.reason !== "MISSING" || !f.arn);
    if (other.length > 0) {
      const f = other[0]!;
      throw new Error(
        `DescribeTasks answered ${other.length} failure(s) other than MISSING (first: ${f.reason ?? "no reason"} for ${f.arn ?? "no arn"}): partial answer`,
      );
    }
    const tasks: EcsTask[] = [];
    const foreign: string[] = [];
    for (const t of out.tasks ?? []) {
      const task = toEcsTask(t);
      if (!task) continue;
      if (isPoolTask(t, this.opts.pool)) tasks.push(task);
      else foreign.push(task.taskArn);
    }
    const missing = (out.failures ?? []).filter((f) => f.reason === "MISSING" && f.arn).map((f) => f.arn!);
    return { tasks, missing, foreign };
  }

  async runTask(input: RunTaskInput): Promise<RunTaskResult> {
    if (!Number.isInteger(input.count) || input.count < 1 || input.count > 10) {
      throw new Error(`RunTask count must be an integer 1–10, got ${input.count}`);
    }
    const req: RunTaskCommandInput = {
      cluster: this.opts.cluster,
      taskDefinition: input.taskDefinition,
      count: input.count,
      startedBy: this.opts.pool,
      group: poolGroup(this.opts.pool),
      clientToken: input.clientToken,
      tags: [{ key: "warmpool:pool", value: this.opts.pool }],
      propagateTags: "TASK_DEFINITION",
      ...this.placement(),
      ...this.network(),
    };
    // The same clientToken on every attempt: ECS answers a retry with the first call's tasks.
    const out = await this.call("RunTask", () => this.client.send(new RunTaskCommand(req)));
    const tasks = (out.tasks ?? []).flatMap((t) => toEcsTask(t) ?? []);
    const failures = (out.failures ?? []).map((f) => ({
      reason: f.reason ?? "UNKNOWN",
      ...(f.arn ? { arn: f.arn } : {}),
      ...(f.detail ? { detail: f.detail } : {}),
    }));
    const now = Date.now();
    for (const f of failures) {
      const prev = this.runFailures.get(f.reason);
      this.runFailures.set(f.reason, { count: (prev?.count ?? 0) + 1, lastAtMs: now });
      this.opts.metrics?.runTaskFailuresTotal.inc({ pool: this.opts.pool, reason: boundedReason(f.reason) });
    }
    if (failures.length > 0) this.count("RunTask", "failure");
    return { tasks, failures };
  }

  async stopTask(taskArn: string, reason: string): Promise<void> {
    try {
      await this.call("StopTask", () =>
        this.client.send(
          new StopTaskCommand({ cluster: this.opts.cluster, task: taskArn, reason: reason.slice(0, 255) }),
        ),
      );
    } catch (err) {
      // A task ECS no longer has is already where we wanted it.
      if (
        (err as { name?: string }).name === "InvalidParameterException" &&
        /not found|MISSING/i.test(String(err))
      ) {
        return;
      }
      throw new Error(`stopping task ${taskIdOf(taskArn)}`, { cause: err });
    }
  }

  /**
   * Resolves a family, family:revision or ARN to the ARN RunTask will use (records store the
   * ARN). Throws TaskDefinitionUnusable when ECS says it does not exist or is not ACTIVE; other
   * errors (throttling, network) propagate as they are.
   */
  async resolveTaskDefinition(taskDefinition: string): Promise<string> {
    let out;
    try {
      out = await this.call("DescribeTaskDefinition", () =>
        this.client.send(new DescribeTaskDefinitionCommand({ taskDefinition })),
      );
    } catch (err) {
      // ECS answers ClientException "Unable to describe task definition." for one it does not have.
      if ((err as { name?: string }).name === "ClientException") {
        throw new TaskDefinitionUnusable(taskDefinition, `ECS: ${(err as Error).message}`);
      }
      throw err;
    }
    const td = out.taskDefinition;
    if (!td?.taskDefinitionArn)
      throw new Error(`task definition ${taskDefinition} has no ARN in ECS's answer`);
    if (td.status !== undefined && td.status !== "ACTIVE") {
      throw new TaskDefinitionUnusable(
        taskDefinition,
        `${td.taskDefinitionArn} is ${td.status} (deregistered): RunTask refuses it`,
      );
    }
    return td.taskDefinitionArn;
  }

  /** Calls waiting in the queues (not yet sent), all APIs. */
  get queued(): number {
    return this.caller.queued;
  }

  /** Waits for calls in flight; queued calls abort through the driver's signal. */
  async idle(): Promise<void> {
    await this.caller.idle();
  }

  destroy(): void {
    this.caller.clear();
    if (!this.opts.client) this.client.destroy();
  }

  private placement(): Partial<RunTaskCommandInput> {
    const p = this.opts.placement ?? {};
    const strategy = this.opts.placementStrategy ?? [];
    const fargate = "launchType" in p && p.launchType === "FARGATE";
    const withStrategy = strategy.length > 0 && !fargate ? { placementStrategy: strategy } : {};
    if ("launchType" in p) return { launchType: p.launchType, ...withStrategy };
    if ("capacityProviderStrategy" in p)
      return { capacityProviderStrategy: p.capacityProviderStrategy, ...withStrategy };
    return withStrategy;
  }

  private network(): Partial<RunTaskCommandInput> {
    const n = this.opts.network;
    if (!n || n.subnets.length === 0) return {};
    return {
      networkConfiguration: {
        awsvpcConfiguration: {
          subnets: n.subnets,
          ...(n.securityGroups?.length ? { securityGroups: n.securityGroups } : {}),
          assignPublicIp: n.assignPublicIp ? "ENABLED" : "DISABLED",
        },
      },
    };
  }

  private call<T>(api: EcsApi, send: () => Promise<T>): Promise<T> {
    return this.caller.call(api, send);
  }

  private count(api: EcsApi, outcome: "failure"): void {
    this.caller.count(api, outcome);
  }
}

/** RunTask failure reasons are a short, bounded vocabulary; anything else is "other". */
function boundedReason(reason: string): string {
  const head = reason.split(/[:\s]/)[0] ?? "other";
  return /^(RESOURCE|AGENT|ATTRIBUTE|MISSING|CAPACITY|INACTIVE|UNKNOWN)/.test(head)
    ? reason.slice(0, 40)
    : "other";
}

/** ECS definitively refuses a task definition: it does not exist, or it is not ACTIVE. */
export class TaskDefinitionUnusable extends Error {
  constructor(
    readonly taskDefinition: string,
    readonly detail: string,
  ) {
    super(`task definition ${taskDefinition} cannot be used: ${detail}`);
    this.name = "TaskDefinitionUnusable";
  }
}
