/**
 * One reconciler test world: a private redis-server, the ECS emulator over HTTP, a registered
 * task definition, and a stand-in for the bridges that registers RUNNING tasks warm through the
 * real register script (TaskChannel) — the protocol a real bridge speaks.
 */
import { randomBytes } from "node:crypto";
import type { Redis } from "ioredis";
import { createRedis } from "../../pkg/redis/index.js";
import { Registry } from "prom-client";
import type { Emulator, EmulatorOptions } from "../../hack/emulator/index.js";
import { TaskChannel } from "../../pkg/claims/index.js";
import { createLogger } from "../../pkg/log/index.js";
import { createMetrics, type Metrics } from "../../pkg/metrics/index.js";
import { PoolKeys } from "../../pkg/keys/index.js";
import { buildConfig, startReconcilerProcess, type ReconcilerProcess } from "../../pkg/reconciler/index.js";
import { recordStates, startPrivateRedis, uniquePool, type PrivateRedis } from "../harness/index.js";
import { FAMILY, startTestEmulator } from "../ecs/env.js";

export interface World {
  /** The private redis-server (not there when the caller gave `redisUrl`: do not use it then). */
  redisServer: PrivateRedis;
  redis: Redis;
  emu: Emulator;
  pool: string;
  keys: PoolKeys;
  taskDefinitionArn: string;
  /** Every task the emulator ever created for this pool (ground truth). */
  launches(): ReturnType<Emulator["control"]["tasks"]>;
  /** Tasks of the pool that are not stopping or stopped (ground truth). */
  live(): ReturnType<Emulator["control"]["tasks"]>;
  /** Records in Redis by state. */
  states(): Promise<Record<string, number>>;
  startReconciler(flags?: Record<string, unknown>, metrics?: Metrics): Promise<ReconcilerProcess>;
  /** The event queue's URL (the emulator's), whether or not the reconciler reads it. */
  feedUrl: string;
  /** Reconciler flags for this world, for a child process. */
  flags(extra?: Record<string, unknown>): Record<string, string>;
  stopBridges(): void;
  close(): Promise<void>;
}

export interface WorldOptions {
  emulator?: EmulatorOptions;
  /** Register RUNNING tasks warm, as their bridges would (default true). */
  bridges?: boolean;
  /** Turn the event feed on or off whatever WP_TEST_FEED says. */
  feed?: boolean;
  /** A Redis the caller runs (a `redis+cluster://` URL, say) instead of a private redis-server. */
  redisUrl?: string;
}

/** The queue the emulator's EventBridge-like rule fills with the cluster's task state changes. */
export const FEED_QUEUE = "ecs-events";

export async function startWorld(o: WorldOptions = {}): Promise<World> {
  const redisServer = o.redisUrl === undefined ? await startPrivateRedis() : undefined;
  const redisUrl = o.redisUrl ?? redisServer!.url;
  const redis = createRedis(redisUrl, { offlineQueue: true });
  redis.on("error", () => undefined);
  // EventBridge's rule for this cluster → the queue the reconciler's feed reads (issue 14).
  const { emu, client, taskDefinitionArn } = await startTestEmulator({
    eventRules: [{ name: "pool-feed", queueName: FEED_QUEUE, clusters: ["default"] }],
    ...o.emulator,
  });
  client.destroy();
  const feedUrl = emu.control.queues().find((q) => q.name === FEED_QUEUE)?.url;
  const observe = process.env.WP_TEST_OBSERVE ?? "cache";
  const feedOn = observe === "cache" && (o.feed ?? process.env.WP_TEST_FEED !== "off") && feedUrl;
  const pool = uniquePool("rec");
  const keys = new PoolKeys(pool);
  const procs: ReconcilerProcess[] = [];
  const registered = new Set<string>();
  let bridges: NodeJS.Timeout | undefined;
  if (o.bridges !== false) {
    let busy = false;
    bridges = setInterval(() => {
      if (busy) return;
      busy = true;
      void (async () => {
        for (const t of emu.control.tasks()) {
          // Only the pool's own tasks run a bridge of this pool (its group, or ECS's default
          // `family:` group, as pkg/ecs isPoolTask has it): a task of another service that merely
          // carries the pool's startedBy (foreign-tasks.test.ts) does not register into the pool.
          const own = t.group === `warmpool:${pool}` || t.group.startsWith("family:");
          if (t.startedBy !== pool || !own) continue;
          if (t.lastStatus !== "RUNNING" || t.desiredStatus !== "RUNNING") continue;
          if (registered.has(t.taskId)) continue;
          registered.add(t.taskId);
          await new TaskChannel(redis, pool, t.taskId)
            .register({
              taskArn: t.taskArn,
              revision: t.taskDefinitionArn,
              endpoint: "127.0.0.1:9",
              token: randomBytes(8).toString("hex"),
            })
            .catch(() => registered.delete(t.taskId));
        }
      })().finally(() => (busy = false));
    }, 30);
  }
  const mine = () => emu.control.tasks().filter((t) => t.startedBy === pool);
  const flags = (extra: Record<string, unknown> = {}): Record<string, string> => ({
    pool,
    cluster: "default",
    "task-definition": FAMILY,
    "redis-url": redisUrl,
    "endpoint-url": emu.endpoint,
    "resync-interval": "500ms",
    "lease-ttl": "3s",
    "metrics-port": "0",
    "log-level": process.env.WARMPOOL_TEST_LOG ?? "silent",
    // The suites run with every way of observing ECS: WP_TEST_OBSERVE=list|cache (default
    // cache) and WP_TEST_FEED=on|off (default on). Without the feed, a short relist is what
    // sees a change made behind the reconciler's back.
    observe,
    ...(feedOn ? { "feed-queue-url": feedUrl, "feed-wait": "1" } : {}),
    "relist-interval": "2s",
    "in-doubt-grace": "1s",
    ...Object.fromEntries(Object.entries(extra).map(([k, v]) => [k, String(v)])),
  });
  return {
    redisServer: redisServer as PrivateRedis,
    redis,
    emu,
    pool,
    keys,
    taskDefinitionArn,
    launches: mine,
    feedUrl: feedUrl ?? "",
    live: () => mine().filter((t) => t.desiredStatus === "RUNNING"),
    states: () => recordStates(redis, keys),
    flags,
    async startReconciler(extra = {}, metrics) {
      const cfg = buildConfig(flags(extra));
      const p = await startReconcilerProcess(cfg, {
        metrics: metrics ?? createMetrics(new Registry(), { defaults: false }),
        log: createLogger({ level: cfg.logLevel, bindings: { component: "reconciler", pool } }),
        host: "127.0.0.1",
      });
      procs.push(p);
      return p;
    },
    stopBridges() {
      clearInterval(bridges);
    },
    async close() {
      clearInterval(bridges);
      await Promise.all(procs.map((p) => p.stop()));
      await emu.stop();
      redis.disconnect();
      await redisServer?.stop();
    },
  };
}

export const setDesired = (w: World, desired: Record<string, unknown>): Promise<unknown> =>
  w.redis.set(w.keys.config, JSON.stringify(desired));

/** The value of one sample of a metric, or 0. */
export async function metricValue(
  m: Metrics,
  name: keyof Metrics,
  labels: Record<string, string>,
): Promise<number> {
  const metric = m[name] as {
    get(): Promise<{ values: { labels: Record<string, unknown>; value: number }[] }>;
  };
  const v = (await metric.get()).values.find((x) =>
    Object.entries(labels).every(([k, l]) => x.labels[k] === l),
  );
  return v?.value ?? 0;
}

/** A histogram's observation count and sum for one label set (0 and 0 before any). */
export async function histogramTotals(
  m: Metrics,
  name: "refillDuration" | "taskStartDuration",
  labels: Record<string, string>,
): Promise<{ count: number; sum: number }> {
  const values = (await m[name].get()).values;
  const of = (suffix: string): number =>
    values.find(
      (x) =>
        x.metricName?.endsWith(suffix) &&
        Object.entries(labels).every(([k, l]) => (x.labels as Record<string, unknown>)[k] === l),
    )?.value ?? 0;
  return { count: of("_count"), sum: of("_sum") };
}
