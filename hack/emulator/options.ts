import type { AutoScalingOptions } from "./autoscaling/types.js";
import type { EventRuleInput } from "./events/bus.js";

/** An SQS queue to create at start, with CreateQueue's attributes (all strings, as on the wire). */
export interface QueueSeed {
  name: string;
  attributes?: Record<string, string>;
}

/**
 * What the emulator can be tuned with, and the defaults that make it behave like ECS in
 * us-east-1 at real speed. Lifecycle latencies are sampled per task from a distribution and
 * multiplied by `timeScale`, so tests keep the shape of a real launch at a fraction of its time.
 */

/** A latency in milliseconds: fixed, uniform between two bounds, or log-normal around a median. */
export type Latency = number | { min: number; max: number } | { median: number; sigma: number };

/** The steps a task walks through; each takes a sampled latency (before `timeScale`). */
export interface LifecycleLatencies {
  /** PROVISIONING → PENDING (capacity and, on Fargate, the ENI). */
  provisioning: Latency;
  /** PENDING → RUNNING (image pull and container start). */
  pending: Latency;
  /** RUNNING → DEACTIVATING after the desired status turns STOPPED. */
  deactivating: Latency;
  /** DEACTIVATING → STOPPING (load balancer / ENI detach). */
  stopping: Latency;
  /** STOPPING → STOPPED for a virtual task; a process-backed task stops when its process exits. */
  stopped: Latency;
}

export type LaunchType = "EC2" | "FARGATE" | "EXTERNAL";

/** One token bucket: `burst` tokens at most, `refillPerSecond` added continuously. */
export interface BucketRate {
  burst: number;
  refillPerSecond: number;
}

export interface RateLimits {
  /** RunTask + StartTask + StopTask share one bucket (ECS: burst 100, 40/s). */
  taskMutations: BucketRate;
  /** DescribeTasks + ListTasks share one bucket (ECS: burst 100, 20/s). */
  taskReads: BucketRate;
  /** Fargate tasks launched, counted per task (ECS: burst 100, 20 tasks/s). */
  fargateLaunches: BucketRate;
}

/** A local command run once per task, standing in for the task's essential container. */
export interface TaskProcessOptions {
  command: string;
  args?: string[];
  /** Extra environment, below the task definition's and the overrides' variables. */
  env?: Record<string, string>;
  cwd?: string;
  /** Where the process's stdout/stderr go; default "ignore". */
  stdio?: "inherit" | "ignore";
}

export interface EmulatorOptions {
  /** TCP port on 127.0.0.1; 0 (default) picks a free one. */
  port?: number;
  host?: string;
  region?: string;
  accountId?: string;
  /** Multiplies every lifecycle latency (1 = real speed; tests use ~0.01). */
  timeScale?: number;
  /** Per launch type lifecycle latencies; missing steps keep their defaults. */
  latencies?: Partial<Record<LaunchType, Partial<LifecycleLatencies>>>;
  /** Token buckets; `false` disables throttling altogether. */
  rateLimits?: Partial<RateLimits> | false;
  /** How long a STOPPED task stays visible to ListTasks/DescribeTasks (ECS: at least 1 h). */
  stoppedRetentionMs?: number;
  /** A new task appears in ListTasks only this long after RunTask (eventual consistency). */
  listVisibilityLagMs?: number;
  /** Launch type used when RunTask names neither a launch type nor a capacity provider. */
  defaultLaunchType?: LaunchType;
  /** Runs a real local process per task; without it tasks are virtual. */
  taskProcess?: TaskProcessOptions;
  /** Availability zones tasks are spread over, round robin. */
  availabilityZones?: string[];
  /** Random source for latencies and fault probabilities (tests may seed it). */
  random?: () => number;
  /** EC2 Auto Scaling groups (and their warm pools) feeding ECS container instances. */
  autoScaling?: AutoScalingOptions;
  /** SQS queues to create at start (queues can also be created through the SQS API). */
  queues?: QueueSeed[];
  /**
   * EventBridge-like rules: ECS task state change events matching a rule go to its queue
   * (created if missing). E.g. `[{ name: "pool-feed", queueName: "ecs-events", clusters: ["default"] }]`.
   */
  eventRules?: EventRuleInput[];
  /** EventBridge's delivery time from a task's change to its queue (ms, default 0; real: well under 1 s). */
  eventLatencyMs?: number;
}

export interface ResolvedOptions {
  port: number;
  host: string;
  region: string;
  accountId: string;
  timeScale: number;
  latencies: Record<LaunchType, LifecycleLatencies>;
  rateLimits: RateLimits | false;
  stoppedRetentionMs: number;
  listVisibilityLagMs: number;
  defaultLaunchType: LaunchType;
  taskProcess: TaskProcessOptions | undefined;
  availabilityZones: string[];
  random: () => number;
  autoScaling: AutoScalingOptions;
  queues: QueueSeed[];
  eventRules: EventRuleInput[];
  eventLatencyMs: number;
}

/** Fargate: ~5 s to provision the ENI, ~10 s to pull and start; about 30 s to drain on stop. */
const FARGATE: LifecycleLatencies = {
  provisioning: { median: 5_000, sigma: 0.3 },
  pending: { median: 10_000, sigma: 0.35 },
  deactivating: { min: 500, max: 2_000 },
  stopping: { min: 1_000, max: 5_000 },
  stopped: { min: 1_000, max: 3_000 },
};

/** EC2 with a warm instance and a cached image: placement is fast, the container start dominates. */
const EC2: LifecycleLatencies = {
  provisioning: { min: 300, max: 1_000 },
  pending: { median: 3_000, sigma: 0.4 },
  deactivating: { min: 200, max: 1_000 },
  stopping: { min: 200, max: 1_000 },
  stopped: { min: 500, max: 1_500 },
};

export const DEFAULT_RATE_LIMITS: RateLimits = {
  taskMutations: { burst: 100, refillPerSecond: 40 },
  taskReads: { burst: 100, refillPerSecond: 20 },
  fargateLaunches: { burst: 100, refillPerSecond: 20 },
};

export function resolveOptions(o: EmulatorOptions = {}): ResolvedOptions {
  const problems: string[] = [];
  const timeScale = o.timeScale ?? 1;
  if (!(timeScale >= 0)) problems.push(`timeScale must be a number ≥ 0 (got ${String(o.timeScale)})`);
  if (o.port !== undefined && !(Number.isInteger(o.port) && o.port >= 0 && o.port < 65536))
    problems.push(`port must be an integer in 0..65535 (got ${String(o.port)})`);
  if (o.accountId !== undefined && !/^\d{12}$/.test(o.accountId))
    problems.push(`accountId must be 12 digits (got ${o.accountId})`);
  if (o.taskProcess && !o.taskProcess.command)
    problems.push("taskProcess.command must be a non-empty string");
  if (o.queues !== undefined && !Array.isArray(o.queues))
    problems.push("queues must be a list of {name, attributes}");
  if (o.eventLatencyMs !== undefined && !(o.eventLatencyMs >= 0))
    problems.push(`eventLatencyMs must be a number ≥ 0 (got ${String(o.eventLatencyMs)})`);
  if (o.eventRules !== undefined && !Array.isArray(o.eventRules))
    problems.push("eventRules must be a list of {name, queueName, clusters | eventPattern}");
  if (problems.length) throw new Error(`invalid emulator options: ${problems.join("; ")}`);

  const lat = (lt: LaunchType, base: LifecycleLatencies): LifecycleLatencies => ({
    ...base,
    ...(o.latencies?.[lt] ?? {}),
  });
  const region = o.region ?? "us-east-1";
  return {
    port: o.port ?? 0,
    host: o.host ?? "127.0.0.1",
    region,
    accountId: o.accountId ?? "000000000000",
    timeScale,
    latencies: { FARGATE: lat("FARGATE", FARGATE), EC2: lat("EC2", EC2), EXTERNAL: lat("EXTERNAL", EC2) },
    rateLimits: o.rateLimits === false ? false : { ...DEFAULT_RATE_LIMITS, ...(o.rateLimits ?? {}) },
    stoppedRetentionMs: o.stoppedRetentionMs ?? 60 * 60 * 1000,
    listVisibilityLagMs: o.listVisibilityLagMs ?? 0,
    defaultLaunchType: o.defaultLaunchType ?? "EC2",
    taskProcess: o.taskProcess,
    availabilityZones: o.availabilityZones ?? [`${region}a`, `${region}b`, `${region}c`],
    random: o.random ?? Math.random,
    autoScaling: o.autoScaling ?? {},
    queues: o.queues ?? [],
    eventRules: o.eventRules ?? [],
    eventLatencyMs: o.eventLatencyMs ?? 0,
  };
}

/** Draws one latency in ms (unscaled). */
export function sampleLatency(l: Latency, random: () => number): number {
  if (typeof l === "number") return l;
  if ("min" in l) return l.min + (l.max - l.min) * random();
  // Box–Muller: a standard normal from two uniforms, then exp for the log-normal.
  const u = Math.max(random(), 1e-12);
  const v = random();
  const z = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  return l.median * Math.exp(l.sigma * z);
}
