import type { Redis, RedisOptions } from "ioredis";
import { Registry } from "prom-client";
import { AsgDriver, CapacityReconciler } from "../asg/index.js";
import { PoolStore } from "../claims/index.js";
import { EcsDriver, type Placement } from "../ecs/index.js";
import { createLogger, type Logger } from "../log/index.js";
import { createMetrics, type Metrics } from "../metrics/index.js";
import { plan as defaultPlan, type PlanFn } from "../plan/index.js";
import { createRedis, isWritablePrimary, redisOptions } from "../redis/index.js";
import { createDesiredSource, taskDefinitionCheck } from "./desired-source.js";
import { startOpsServer, type OpsServer } from "./http.js";
import type { ReconcilerConfig } from "./options.js";
import type { DesiredSource } from "./ports.js";
import { Reconciler } from "./reconciler.js";
import { CacheObserver, FeedConsumer, TaskCache, type FeedFanout } from "../observe/index.js";
import type { BucketLimit, CallBudget } from "../ecs/index.js";

export interface ReconcilerProcess {
  reconciler: Reconciler;
  ops: OpsServer;
  redis: Redis;
  driver: EcsDriver;
  metrics: Metrics;
  /** Finishes or abandons the pass, releases the lease, closes every connection and the port. */
  stop(): Promise<void>;
}

export interface ProcessDeps {
  log?: Logger;
  metrics?: Metrics;
  plan?: PlanFn;
  desired?: DesiredSource;
  /** Bind address of the ops port. */
  host?: string;
}

/**
 * Redis options that fail a command fast when the server is gone, so a pass ends instead of hanging,
 * and re-dial on a role change (READONLY): pkg/redis's policy for long-running processes.
 */
const REDIS_CONNECT = { offlineQueue: true } as const;
export const REDIS_OPTIONS: RedisOptions = redisOptions(REDIS_CONNECT);

/** What the pools of one process share (one pool: its own; many pools: pkg/fleet's process). */
export interface SharedWiring {
  redis: Redis;
  metrics: Metrics;
  log: Logger;
  /**
   * The account's budgets (pkg/budget) each ECS and Auto Scaling call also spends from (`asg`: every
   * Auto Scaling call); absent = local buckets only.
   */
  budgets?: { read: CallBudget; write: CallBudget; asg?: CallBudget };
  /** One feed consumer for every pool of the process; absent = a consumer of its own (cfg.feedQueueUrl). */
  fanout?: FeedFanout;
}

/** One pool's reconciler with its driver, observer and feed: what a fleet runs per pool. */
export interface PoolWiring {
  pool: string;
  reconciler: Reconciler;
  driver: EcsDriver;
  /** Abandons queued ECS calls, stops the reconciler (releasing the lease), closes the clients. */
  stop(): Promise<void>;
}

/**
 * Wires one pool: its ECS and Auto Scaling drivers (local buckets, plus the shared budget when
 * given), task cache, observer, feed (its own consumer, or a handle on the process's fan-out),
 * PoolStore fenced by its own lease epoch, desired source and `Reconciler`. Not started.
 */
export function wirePool(
  cfg: ReconcilerConfig,
  pool: string,
  shared: SharedWiring,
  deps: Pick<ProcessDeps, "plan" | "desired"> = {},
): PoolWiring {
  const { redis, metrics } = shared;
  const log = shared.log;
  const stopCtl = new AbortController();
  const cache = new TaskCache();
  const placement: Placement = cfg.launchType
    ? { launchType: cfg.launchType }
    : cfg.capacityProviders.length > 0
      ? { capacityProviderStrategy: cfg.capacityProviders }
      : {};
  const driver = new EcsDriver({
    cluster: cfg.cluster,
    pool,
    region: cfg.region,
    ...(cfg.endpointUrl ? { endpoint: cfg.endpointUrl } : {}),
    network: { subnets: cfg.subnets, securityGroups: cfg.securityGroups, assignPublicIp: cfg.assignPublicIp },
    placement,
    placementStrategy: cfg.placementStrategy,
    limits: budgetLimits(cfg),
    ...(shared.budgets ? { budgets: shared.budgets } : {}),
    metrics,
    signal: stopCtl.signal,
  });
  // Auto Scaling is touched only when the desired state names a group (`asg`).
  const capacity = new CapacityReconciler({
    pool,
    driver: new AsgDriver({
      pool,
      cluster: cfg.cluster,
      region: cfg.region,
      ...(cfg.endpointUrl ? { endpoint: cfg.endpointUrl } : {}),
      ...(shared.budgets
        ? {
            budgets: {
              "ecs-read": shared.budgets.read,
              ...(shared.budgets.asg
                ? { "asg-read": shared.budgets.asg, "asg-write": shared.budgets.asg }
                : {}),
            },
          }
        : {}),
      metrics,
      signal: stopCtl.signal,
    }),
    metrics,
    log,
  });
  const budget = budgetLimits(cfg);
  metrics.ecsBudget.set({ pool, family: "read" }, budget.read.ratePerSec);
  metrics.ecsBudget.set({ pool, family: "write" }, budget.write.ratePerSec);
  const target = {
    cache,
    onChange: () => reconciler.trigger.poke(),
    // Events were missed while the queue was down (it keeps them, but not forever): relist.
    onRecovered: () => observer?.requestRelist(),
  };
  const ownFeed =
    !shared.fanout && cfg.feedQueueUrl
      ? new FeedConsumer({
          pool,
          cluster: cfg.cluster,
          queueUrl: cfg.feedQueueUrl,
          region: cfg.region,
          ...(cfg.sqsEndpointUrl || cfg.endpointUrl
            ? { endpoint: (cfg.sqsEndpointUrl ?? cfg.endpointUrl)! }
            : {}),
          cache,
          log: log.child({ component: "feed" }),
          metrics,
          waitSeconds: cfg.feedWaitSeconds,
          onChange: target.onChange,
          onRecovered: target.onRecovered,
        })
      : undefined;
  const feed = shared.fanout ? shared.fanout.pool(pool, target) : ownFeed;
  const observer =
    cfg.observe === "cache"
      ? new CacheObserver({
          pool,
          reader: driver,
          cache,
          ...(feed ? { feed } : {}),
          relistMs: cfg.relistMs,
          inDoubtGraceMs: cfg.inDoubtGraceMs,
          log: log.child({ component: "observe" }),
          metrics,
          poke: () => reconciler.trigger.poke(),
        })
      : undefined;
  if (!feed && observer) log.info("no event feed configured: observing from Redis, own writes and relists");
  const reconciler: Reconciler = new Reconciler({
    ...(observer ? { observer } : {}),
    fastRefill: cfg.fastRefill,
    recordRereadMs: cfg.recordRereadMs,
    capacity,
    pool,
    redis,
    ecs: driver,
    // Every Redis write of a pass is fenced by this pool's lease epoch (read at the write).
    store: new PoolStore(redis, pool, { fence: (): number => reconciler.lease.epoch }),
    desired:
      deps.desired ??
      createDesiredSource({
        redis,
        pool,
        log,
        metrics,
        // Through the reconciler's revision cache: the pass that follows reuses the answer.
        check: taskDefinitionCheck((td) => reconciler.resolveRevision(td)),
      }),
    plan: deps.plan ?? defaultPlan,
    taskDefinition: cfg.taskDefinition,
    resyncMs: cfg.resyncMs,
    leaseTtlMs: cfg.leaseTtlMs,
    timings: {
      ...(cfg.registerTimeoutMs ? { registerTimeoutMs: cfg.registerTimeoutMs } : {}),
      ...(cfg.visibilityGraceMs ? { visibilityGraceMs: cfg.visibilityGraceMs } : {}),
    },
    metrics,
    log,
  });
  let stopping: Promise<void> | undefined;
  return {
    pool,
    reconciler,
    driver,
    stop: () =>
      (stopping ??= (async () => {
        // Queued and backing-off ECS calls are abandoned; a call in flight finishes (or times out).
        stopCtl.abort();
        await reconciler.stop();
        driver.destroy();
        ownFeed?.destroy();
      })()),
  };
}

/** Wires one reconciler process from its configuration (cmd/reconciler.ts and `warmpool dev`). */
export async function startReconcilerProcess(
  cfg: ReconcilerConfig,
  deps: ProcessDeps = {},
): Promise<ReconcilerProcess> {
  const log =
    deps.log ?? createLogger({ level: cfg.logLevel, bindings: { component: "reconciler", pool: cfg.pool } });
  const metrics = deps.metrics ?? createMetrics(new Registry());
  const redis = createRedis(cfg.redisUrl, REDIS_CONNECT); // the URL may name its ACL user
  redis.on("error", (err) => log.debug({ err: String(err) }, "redis connection error"));
  const wired = wirePool(cfg, cfg.pool, { redis, metrics, log }, deps);
  const { reconciler, driver } = wired;
  const ops = await startOpsServer(
    metrics.registry,
    {
      live: () => true,
      ready: async () => {
        // Not a PING: a demoted primary answers reads but refuses every write (READONLY).
        const redisOk = await withTimeout(isWritablePrimary(redis), 1_000).catch(() => false);
        const desired = reconciler.desiredReadable;
        return {
          ok: redisOk && desired,
          detail: { redis: redisOk, desiredState: desired, leader: reconciler.lease.held },
        };
      },
      status: () => reconciler.snapshot(),
    },
    cfg.metricsPort,
    deps.host,
  );
  await reconciler.start();
  log.info(
    {
      holder: reconciler.holderId,
      metrics: `${ops.url}/metrics`,
      cluster: cfg.cluster,
      resyncMs: cfg.resyncMs,
    },
    "reconciler started (standby until it holds the lease)",
  );
  let stopping: Promise<void> | undefined;
  return {
    reconciler,
    ops,
    redis,
    driver,
    metrics,
    stop: () =>
      (stopping ??= (async () => {
        await wired.stop();
        await ops.close();
        redis.disconnect();
        log.info("reconciler stopped");
      })()),
  };
}

/**
 * The driver's buckets are the budget: `--ecs-read-budget` / `--ecs-write-budget` calls per second
 * (the older `--ecs-read-rate` / `--ecs-write-rate` win when given). A small burst keeps a relist
 * paced at the budget rather than spending ECS's whole burst at once.
 */
export function budgetLimits(cfg: ReconcilerConfig): { read: BucketLimit; write: BucketLimit } {
  const read = cfg.readRatePerSec ?? cfg.readBudget;
  const write = cfg.writeRatePerSec ?? cfg.writeBudget;
  const list = cfg.observe === "list";
  return {
    read: { ratePerSec: read, burst: list ? 100 : Math.max(2, Math.ceil(read * 2)) },
    write: { ratePerSec: write, burst: list ? 100 : Math.max(10, Math.ceil(write * 2)) },
  };
}

export function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return Promise.race([
    p,
    new Promise<T>((_, reject) => setTimeout(() => reject(new Error("timeout")), ms).unref()),
  ]);
}
