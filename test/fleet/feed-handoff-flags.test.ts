import { RunTaskCommand, type ECSClient } from "@aws-sdk/client-ecs";
import { Redis } from "ioredis";
import { Registry } from "prom-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Emulator } from "../../hack/emulator/index.js";
import { PoolKeys, REPLICAS_KEY } from "../../pkg/keys/index.js";
import { createLogger } from "../../pkg/log/index.js";
import { createMetrics } from "../../pkg/metrics/index.js";
import { PoolRegistry } from "../../pkg/pools/index.js";
import { buildConfig, startFleetProcess, type FleetProcess } from "../../pkg/reconciler/index.js";
import { figures } from "../chaos/mode.js";
import { FAMILY, startTestEmulator } from "../ecs/env.js";
import { startPrivateRedis, waitFor, type PrivateRedis } from "../harness/index.js";

const POOLS = ["ho-a", "ho-b"];
const MAX_RECEIVES = 3;

/**
 * `--feed-handoff-max-receives` and `--feed-handoff-visibility` reach the fleet process's feed
 * fan-out: with another live replica in the replica set (a heartbeat entry that does not expire)
 * one of the two pools is that replica's, so its events are handed back to the queue, each one
 * received exactly `--feed-handoff-max-receives` times and then deleted (counted by the
 * emulator's SQS queue; the default would be 50 receives).
 */
describe("the feed handoff flags reach the fan-out (real Redis, emulator's SQS over HTTP)", () => {
  let server: PrivateRedis;
  let redis: Redis;
  let emu: Emulator;
  let client: ECSClient;
  let proc: FleetProcess | undefined;

  beforeAll(async () => {
    server = await startPrivateRedis();
    redis = new Redis(server.url, { maxRetriesPerRequest: 1 });
    redis.on("error", () => undefined);
    ({ emu, client } = await startTestEmulator({
      eventRules: [{ name: "fleet-feed", queueName: "ecs-events", clusters: ["default"] }],
    }));
    const reg = new PoolRegistry(redis);
    for (const p of POOLS) {
      await reg.create(p, { who: "test" });
      await redis.set(
        new PoolKeys(p).config,
        JSON.stringify({ minWarm: 0, maxWarm: 1, replenishThreshold: 0 }),
      );
    }
    // Another replica, alive for the whole test (score = its expiry, ms).
    const [sec] = await redis.time();
    await redis.zadd(REPLICAS_KEY, Number(sec) * 1000 + 3_600_000, "other-replica");
  });
  afterAll(async () => {
    await proc?.stop();
    client?.destroy();
    await emu?.stop();
    redis?.disconnect();
    await server?.stop();
  });

  it(`an event of the other replica's pool is received ${MAX_RECEIVES} times, then deleted`, async () => {
    const queue = emu.control.queues().find((q) => q.name === "ecs-events")!;
    const cfg = buildConfig({
      "all-pools": true,
      cluster: "default",
      "task-definition": FAMILY,
      "redis-url": server.url,
      "endpoint-url": emu.endpoint,
      "resync-interval": "1s",
      "lease-ttl": "3s",
      "fleet-ttl": "2s",
      "metrics-port": "0",
      "log-level": process.env.WARMPOOL_TEST_LOG ?? "silent",
      "feed-queue-url": queue.url,
      "feed-wait": "1",
      "feed-handoff-visibility": "1s",
      "feed-handoff-max-receives": String(MAX_RECEIVES),
    });
    proc = await startFleetProcess(cfg, {
      metrics: createMetrics(new Registry(), { defaults: false }),
      log: createLogger({ level: cfg.logLevel }),
      host: "127.0.0.1",
    });
    const fleet = proc.fleet;
    // One pool each (fair shares of 2 pools over 2 replicas).
    await waitFor(
      "this replica serves one pool, the other replica the other",
      () => fleet.served.length === 1,
    );
    const theirs = POOLS.find((p) => fleet.ownerOf(p) === "other-replica")!;
    expect(theirs).toBeDefined();
    const status = (await (await fetch(`${proc.ops.url}/status`)).json()) as {
      feed: { handoff: { visibilitySeconds: number; maxReceives: number } };
    };
    expect(status.feed.handoff).toEqual({ visibilitySeconds: 1, maxReceives: MAX_RECEIVES });

    const before = { ...emu.control.queues().find((q) => q.name === "ecs-events")!.counters };
    await client.send(new RunTaskCommand({ cluster: "default", taskDefinition: FAMILY, startedBy: theirs }));
    // The task's events (PENDING, RUNNING …) reach the queue; each is handed back until its
    // MAX_RECEIVES-th receive, then deleted: the queue drains.
    const after = await waitFor(
      "the other replica's events received and finally deleted",
      () => {
        const q = emu.control.queues().find((x) => x.name === "ecs-events")!;
        const sent = q.counters.sent - before.sent;
        return sent > 0 &&
          q.visible + q.inFlight + q.delayed === 0 &&
          q.counters.deleted - before.deleted === sent
          ? q
          : undefined;
      },
      30_000,
      100,
    );
    const sent = after.counters.sent - before.sent;
    const received = after.counters.received - before.received;
    figures("feed handoff flags", { pool: theirs, sent, received, maxReceives: MAX_RECEIVES });
    // Only the other replica's pool had a task: every event sent was one of its events.
    expect(emu.control.tasks().map((t) => t.startedBy)).toEqual([theirs]);
    expect(received).toBe(sent * MAX_RECEIVES);
  }, 60_000);
});
