/**
 * Many pools in one reconciler process (`warmpool reconciler --pools a,b | --pool-selector k=v |
 * --all-pools`): a FleetManager (pkg/fleet) whose runner per pool is a full per-pool Reconciler
 * (own lease and epoch, PoolStore, desired source, task cache), all on one main Redis connection,
 * one metrics registry, one ops port, one event-feed consumer fanning out by `startedBy`, and
 * every ECS and Auto Scaling call also spent from the account's shared budget in Redis (pkg/budget).
 */
import type { Redis } from "ioredis";
import { Registry } from "prom-client";
import { SharedBudget } from "../budget/index.js";
import type { CallBudget } from "../ecs/index.js";
import { FleetManager } from "../fleet/index.js";
import { createLogger } from "../log/index.js";
import { createMetrics, type Metrics } from "../metrics/index.js";
import { FeedFanout } from "../observe/index.js";
import { createRedis, isWritablePrimary } from "../redis/index.js";
import { startOpsServer, type OpsServer } from "./http.js";
import type { FleetConfig, ReconcilerConfig } from "./options.js";
import { withTimeout, wirePool, type PoolWiring, type ProcessDeps } from "./process.js";

export interface FleetProcess {
  fleet: FleetManager;
  ops: OpsServer;
  redis: Redis;
  metrics: Metrics;
  /** The pools this process serves now, with their reconcilers. */
  pools(): ReadonlyMap<string, PoolWiring>;
  stop(): Promise<void>;
}

/** The shared budget of one API class, counting what this process spends in the metrics. */
function meteredBudget(
  redis: Redis,
  f: FleetConfig,
  region: string,
  api: "ecs-read" | "ecs-write" | "autoscaling",
  ratePerSec: number,
  metrics: Metrics,
): CallBudget {
  // One second's worth at once: a full budget never spends ECS's whole bucket in one go.
  const budget = new SharedBudget(redis, {
    account: f.account,
    region,
    api,
    ratePerSec,
    burst: Math.max(1, Math.ceil(ratePerSec)),
  });
  metrics.awsBudget.set({ account: f.account, region, api }, ratePerSec);
  return {
    take: async (pool, cost, signal) => {
      await budget.take(pool, cost, signal);
      metrics.awsBudgetSpent.inc({ account: f.account, region, api }, cost);
    },
  };
}

export async function startFleetProcess(
  cfg: ReconcilerConfig,
  deps: ProcessDeps = {},
): Promise<FleetProcess> {
  const f = cfg.fleet;
  if (!f)
    throw new Error(
      "startFleetProcess: the configuration selects no pools (--pools, --pool-selector, --all-pools)",
    );
  const log = deps.log ?? createLogger({ level: cfg.logLevel, bindings: { component: "reconciler" } });
  const metrics = deps.metrics ?? createMetrics(new Registry());
  const redis = createRedis(cfg.redisUrl, { offlineQueue: true });
  redis.on("error", (err) => log.debug({ err: String(err) }, "redis connection error"));
  const budgets = {
    read: meteredBudget(redis, f, cfg.region, "ecs-read", f.budgetRead, metrics),
    write: meteredBudget(redis, f, cfg.region, "ecs-write", f.budgetWrite, metrics),
    asg: meteredBudget(redis, f, cfg.region, "autoscaling", f.budgetAsg, metrics),
  };
  const fanout = cfg.feedQueueUrl
    ? new FeedFanout({
        cluster: cfg.cluster,
        queueUrl: cfg.feedQueueUrl,
        region: cfg.region,
        ...(cfg.sqsEndpointUrl || cfg.endpointUrl
          ? { endpoint: (cfg.sqsEndpointUrl ?? cfg.endpointUrl)! }
          : {}),
        log: log.child({ component: "feed" }),
        metrics,
        waitSeconds: cfg.feedWaitSeconds,
        elsewhereVisibilitySeconds: f.handoffVisibilitySeconds,
        maxHandoffs: f.handoffMaxReceives,
        // Another live replica's pool: hand its events back; nobody's pool: delete them.
        servedElsewhere: (pool: string) => {
          const owner = fleet.ownerOf(pool);
          return owner !== undefined && owner !== fleet.replicaId;
        },
      })
    : undefined;
  const wired = new Map<string, PoolWiring>();
  const fleet = new FleetManager({
    redis,
    log,
    ttlMs: f.ttlMs,
    ...(f.names ? { names: f.names } : {}),
    ...(f.selector ? { selector: f.selector } : {}),
    startPool: async (pool) => {
      const w = wirePool(
        cfg,
        pool,
        { redis, metrics, log: log.child({ pool }), budgets, ...(fanout ? { fanout } : {}) },
        deps,
      );
      try {
        await w.reconciler.start();
      } catch (e) {
        await w.stop().catch(() => undefined);
        throw e;
      }
      wired.set(pool, w);
      return {
        stop: async () => {
          wired.delete(pool);
          await w.stop();
        },
      };
    },
  });
  const ops = await startOpsServer(
    metrics.registry,
    {
      live: () => true,
      ready: async () => {
        const redisOk = await withTimeout(isWritablePrimary(redis), 1_000).catch(() => false);
        const unreadable = [...wired.values()]
          .filter((w) => !w.reconciler.desiredReadable)
          .map((w) => w.pool);
        return {
          ok: redisOk && unreadable.length === 0,
          detail: { redis: redisOk, pools: wired.size, desiredStateUnreadable: unreadable },
        };
      },
      status: () => ({
        replica: fleet.replicaId,
        replicas: fleet.liveReplicas,
        budget: {
          account: f.account,
          region: cfg.region,
          ecsRead: f.budgetRead,
          ecsWrite: f.budgetWrite,
          autoscaling: f.budgetAsg,
        },
        feed: fanout
          ? {
              ...fanout.status(),
              served: fanout.served,
              handoff: { visibilitySeconds: f.handoffVisibilitySeconds, maxReceives: f.handoffMaxReceives },
            }
          : null,
        pools: Object.fromEntries(
          [...wired.values()]
            .sort((a, b) => a.pool.localeCompare(b.pool))
            .map((w) => [w.pool, w.reconciler.snapshot()]),
        ),
      }),
    },
    cfg.metricsPort,
    deps.host,
  );
  fleet.start();
  log.info(
    { replica: fleet.replicaId, metrics: `${ops.url}/metrics`, cluster: cfg.cluster, ...f },
    "reconciler fleet started: serving its share of the selected pools",
  );
  let stopping: Promise<void> | undefined;
  return {
    fleet,
    ops,
    redis,
    metrics,
    pools: () => wired,
    stop: () =>
      (stopping ??= (async () => {
        await fleet.stop();
        await fanout?.stop();
        fanout?.destroy();
        await ops.close();
        redis.disconnect();
        log.info("reconciler fleet stopped");
      })()),
  };
}
