import { RunTaskCommand, type ECSClient } from "@aws-sdk/client-ecs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Emulator } from "../../hack/emulator/index.js";
import { Registry } from "prom-client";
import { createLogger } from "../../pkg/log/index.js";
import { createMetrics, type Metrics } from "../../pkg/metrics/index.js";
import { FeedFanout, TaskCache } from "../../pkg/observe/index.js";
import { FAMILY, startTestEmulator } from "../ecs/env.js";
import { waitFor } from "../harness/index.js";

/**
 * One event feed, two replicas: each process runs one consumer (FeedFanout) on the same queue and
 * serves different pools. An event of a pool served by the other replica is handed back (not
 * deleted), so every pool's cache sees every one of its tasks RUNNING; events of a pool nobody
 * serves are deleted, so the queue drains. Ground truth: the emulator's tasks.
 */
describe("event feed fanned out to pools by startedBy across replicas sharing one queue", () => {
  let emu: Emulator;
  let client: ECSClient;
  const fanouts: FeedFanout[] = [];

  beforeAll(async () => {
    ({ emu, client } = await startTestEmulator({
      eventRules: [{ name: "fanout", queueName: "ecs-events", clusters: ["default"] }],
    }));
  });
  afterAll(async () => {
    for (const f of fanouts) {
      await f.stop();
      f.destroy();
    }
    client?.destroy();
    await emu?.stop();
  });

  it("each replica's pools see all their tasks; nobody's events are deleted", async () => {
    const queueUrl = emu.control.queues().find((q) => q.name === "ecs-events")!.url;
    const log = createLogger({ level: "silent" });
    const metrics: Metrics[] = [];
    const make = (others: string[]): FeedFanout => {
      const m = createMetrics(new Registry(), { defaults: false });
      metrics.push(m);
      const f = new FeedFanout({
        metrics: m,
        cluster: "default",
        queueUrl,
        region: "us-east-1",
        endpoint: emu.endpoint,
        log,
        waitSeconds: 1,
        elsewhereVisibilitySeconds: 1,
        servedElsewhere: (p) => others.includes(p),
      });
      fanouts.push(f);
      return f;
    };
    const r1 = make(["fan-c", "fan-d"]);
    const r2 = make(["fan-a", "fan-b"]);
    const caches = { a: new TaskCache(), b: new TaskCache(), c: new TaskCache(), d: new TaskCache() };
    // Replica 1 serves pools a and b, replica 2 serves c and d; pool "z" is served by nobody.
    r1.pool("fan-a", { cache: caches.a }).start();
    r1.pool("fan-b", { cache: caches.b }).start();
    r2.pool("fan-c", { cache: caches.c }).start();
    r2.pool("fan-d", { cache: caches.d }).start();
    const pools = { a: "fan-a", b: "fan-b", c: "fan-c", d: "fan-d", z: "fan-z" } as const;
    for (const p of Object.values(pools))
      await client.send(
        new RunTaskCommand({ cluster: "default", taskDefinition: FAMILY, count: 5, startedBy: p }),
      );
    const running = (pool: string): string[] =>
      emu.control
        .tasks()
        .filter((t) => t.startedBy === pool && t.lastStatus === "RUNNING")
        .map((t) => t.taskId);
    await waitFor(
      "25 tasks RUNNING in the emulator",
      () => Object.values(pools).every((p) => running(p).length === 5),
      20_000,
    );
    for (const k of ["a", "b", "c", "d"] as const) {
      await waitFor(
        `${pools[k]}: every task RUNNING in its replica's cache`,
        () => running(pools[k]).every((id) => caches[k].get(id)?.task.lastStatus === "RUNNING"),
        20_000,
        50,
      );
    }
    // Each served pool's feed gauge is up in its replica (the feed-down alert reads it per pool).
    const up = async (m: Metrics, pool: string): Promise<number | undefined> =>
      (await m.feedUp.get()).values.find((v) => v.labels.pool === pool)?.value;
    expect([await up(metrics[0]!, "fan-a"), await up(metrics[0]!, "fan-b")]).toEqual([1, 1]);
    expect([await up(metrics[1]!, "fan-c"), await up(metrics[1]!, "fan-d")]).toEqual([1, 1]);
    expect(await up(metrics[0]!, "fan-c")).toBeUndefined();
    // No replica applied another's pool: a cache holds its own pool's tasks only.
    for (const k of ["a", "b", "c", "d"] as const) {
      const own = new Set(
        emu.control
          .tasks()
          .filter((t) => t.startedBy === pools[k])
          .map((t) => t.taskId),
      );
      for (const id of running(pools.a).concat(running(pools.c), running(pools.z)))
        if (!own.has(id)) expect(caches[k].get(id)).toBeUndefined();
    }
    // Pool z is nobody's: its events are deleted at once; the others' go round until their owner
    // takes them: the queue drains.
    await waitFor(
      "the queue drained",
      () => {
        const q = emu.control.queues().find((x) => x.name === "ecs-events")!;
        return q.visible + q.inFlight + q.delayed === 0;
      },
      30_000,
      100,
    );
    const s1 = r1.status().events;
    const s2 = r2.status().events;
    expect(s1.elsewhere + s2.elsewhere).toBeGreaterThan(0);
    expect(s1.applied + s2.applied).toBeGreaterThan(0);
  }, 90_000);
});
