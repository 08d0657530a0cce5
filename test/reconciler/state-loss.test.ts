import { afterEach, describe, expect, it } from "vitest";
import { Registry } from "prom-client";
import type { StatusReport } from "../../pkg/ctl/index.js";
import { createMetrics } from "../../pkg/metrics/index.js";
import { ctl } from "../ctl/env.js";
import { waitFor } from "../harness/index.js";
import { metricValue, setDesired, startWorld, type World } from "./env.js";

describe("reconciler after a Redis state loss (real Redis, emulator over HTTP)", () => {
  let w: World | undefined;
  afterEach(async () => {
    await w?.close();
    w = undefined;
  });

  it("stops none of the tasks whose records were lost (they may serve users), refills beside them", async () => {
    w = await startWorld();
    const world = w;
    const desired = { minWarm: 3, maxWarm: 10, replenishThreshold: 1 };
    await setDesired(world, desired);
    const metrics = createMetrics(new Registry(), { defaults: false });
    await world.startReconciler({ "resync-interval": "200ms", "visibility-grace": "1s" }, metrics);
    await waitFor("3 warm", async () => (await world.states()).warm === 3, 20_000);
    const before = world.live().map((t) => t.taskArn);

    // Redis loses everything (a restart without persistence): records, claims, the birth marker.
    // The stand-in bridges registered these tasks already and do not register them again, as a
    // bridge serving a session would not.
    // The desired state is written back in the same transaction: with the key missing even for a
    // moment the reconciler would rightly apply the defaults (minWarm 5) and fill to them.
    await world.redis.multi().flushall().set(world.keys.config, JSON.stringify(desired)).exec();

    await waitFor(
      "3 new warm tasks beside the lost ones",
      async () => (await world.states()).warm === 3,
      20_000,
    );
    await new Promise((r) => setTimeout(r, 2_500)); // well past the 1 s grace: an orphan rule would fire
    const live = new Set(world.live().map((t) => t.taskArn));
    for (const arn of before) expect(live.has(arn), `${arn} was stopped`).toBe(true);
    expect(world.live()).toHaveLength(6);
    const status = JSON.parse((await world.redis.get(world.keys.status)) ?? "{}") as {
      counts?: { unaccounted?: number };
    };
    expect(status.counts?.unaccounted).toBe(3);

    // On-call sees them: the gauge, and `ctl status` (a warning and a row, still healthy).
    const unaccounted = { pool: world.pool, state: "unaccounted" };
    expect(await metricValue(metrics, "tasks", unaccounted)).toBe(3);
    const r = await ctl([
      "ctl",
      "status",
      "--redis-url",
      world.redisServer.url,
      "--pool",
      world.pool,
      "-o",
      "json",
    ]);
    const report = JSON.parse(r.out) as StatusReport;
    expect(report.actual).toMatchObject({ warm: 3, unaccounted: 3 });
    expect(report.health.warnings.join("\n")).toMatch(/3 live task\(s\) have no record/);
  });

  it("still stops a genuine orphan: a pool task launched after the state began that never got a record", async () => {
    w = await startWorld({ bridges: false });
    const world = w;
    await setDesired(world, { minWarm: 0, maxWarm: 10, replenishThreshold: 0 });
    await world.startReconciler({ "resync-interval": "200ms", "visibility-grace": "1s" });
    await waitFor("the birth marker", () => world.redis.get(world.keys.born), 10_000);
    const { ECSClient, RunTaskCommand } = await import("@aws-sdk/client-ecs");
    const ecs = new ECSClient({ endpoint: world.emu.endpoint, region: "us-east-1", maxAttempts: 1 });
    await ecs.send(
      new RunTaskCommand({
        cluster: "default",
        taskDefinition: world.taskDefinitionArn,
        startedBy: world.pool,
      }),
    );
    ecs.destroy();
    await waitFor(
      "the orphan stopped",
      () => world.live().length === 0 && world.launches().length === 1,
      20_000,
    );
  });
});
