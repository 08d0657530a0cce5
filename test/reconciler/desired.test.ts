import { Registry } from "prom-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ClaimService } from "../../pkg/claims/index.js";
import { ConfigStore } from "../../pkg/config/index.js";
import { createMetrics } from "../../pkg/metrics/index.js";
import type { ReconcilerProcess, StatusSnapshot } from "../../pkg/reconciler/index.js";
import { waitFor } from "../harness/index.js";
import { metricValue, setDesired, startWorld, type World } from "./env.js";
import { FAMILY } from "../ecs/env.js";
import { ctl } from "../ctl/env.js";
import type { StatusReport } from "../../pkg/ctl/index.js";

const settle = (ms = 1_500) => new Promise((r) => setTimeout(r, ms));

describe("desired state changes (real Redis, emulator over HTTP)", () => {
  let w: World;
  let rec: ReconcilerProcess;
  const metrics = createMetrics(new Registry(), { defaults: false });
  const status = async (): Promise<StatusSnapshot> =>
    JSON.parse((await w.redis.get(w.keys.status)) ?? "null");

  beforeAll(async () => {
    w = await startWorld();
    await setDesired(w, { minWarm: 5, maxWarm: 20, replenishThreshold: 3 });
    // A resync far beyond the test: every pass after the first is event-triggered.
    rec = await w.startReconciler({ "resync-interval": "10m" }, metrics);
    await waitFor("5 warm", async () => (await w.states()).warm === 5, 20_000);
    await settle(500);
  });
  afterAll(async () => {
    await w?.close();
  });

  it("a plain SET of the config key to minWarm=8 → 3 more, from the event-triggered pass", async () => {
    expect(w.launches()).toHaveLength(5);
    const passesBefore = rec.reconciler.passes;
    const setAt = Date.now();
    await w.redis.set(w.keys.config, JSON.stringify({ minWarm: 8, maxWarm: 20, replenishThreshold: 3 }));
    await waitFor("8 launches", () => w.launches().length === 8, 10_000);
    const firstRun = Math.min(
      ...w
        .launches()
        .slice(5)
        .map((t) => t.createdAt),
    );
    // The resync is 10 minutes away: only the event path can have started these.
    expect(firstRun - setAt).toBeLessThan(5_000);
    await waitFor("the pass to finish", () => rec.reconciler.passes > passesBefore, 10_000);
    expect(rec.reconciler.snapshot().lastPass?.trigger).toBe("event");
    await waitFor("8 warm", async () => (await w.states()).warm === 8, 20_000);
    await settle();
    expect(w.launches()).toHaveLength(8);
    const s = await status();
    expect(s.desired?.minWarm).toBe(8);
    expect(s.config).toMatchObject({ status: "valid", valid: true });
  });

  it("maxWarm lowered below the warm count → the oldest excess is cordoned and stopped", async () => {
    const ids = await w.redis.smembers(w.keys.tasks);
    const warmAt = new Map<string, number>();
    for (const id of ids) warmAt.set(id, Number(await w.redis.hget(w.keys.task(id), "warmAt")));
    await setDesired(w, { minWarm: 2, maxWarm: 6, replenishThreshold: 1 });
    await waitFor("2 stopped", () => w.live().length === 6, 10_000);
    await settle();
    const stopped = w
      .launches()
      .filter((t) => t.desiredStatus === "STOPPED")
      .map((t) => t.taskId);
    // The longest idle go first: no task kept became warm before a stopped one. (Registrations
    // in one tick of the stand-in bridges share a millisecond, so the order among equals is the
    // planner's own tie-break.)
    expect(stopped).toHaveLength(2);
    const kept = ids.filter((id) => !stopped.includes(id));
    const newestStopped = Math.max(...stopped.map((id) => warmAt.get(id) as number));
    const oldestKept = Math.min(...kept.map((id) => warmAt.get(id) as number));
    expect(newestStopped).toBeLessThanOrEqual(oldestKept);
    for (const id of stopped) expect(w.emu.control.task(id)?.stoppedReason).toBe("warmpool: excess");
    expect(w.launches()).toHaveLength(8); // nothing started meanwhile
  });

  const invalid: [string, string, string][] = [
    ["malformed JSON", '{"minWarm": 5,', "$"],
    ["minWarm > maxWarm", JSON.stringify({ minWarm: 9, maxWarm: 4 }), "minWarm"],
    ["negative", JSON.stringify({ minWarm: -1 }), "minWarm"],
    ["unknown field (typo)", JSON.stringify({ minwarm: 3 }), "minwarm"],
    ["wrong type", JSON.stringify({ minWarm: "5" }), "minWarm"],
    ["absurdly large", JSON.stringify({ minWarm: 5, maxWarm: 1e9 }), "maxWarm"],
    // Valid by the schema, refused once checked against ECS: no rollout to a task definition
    // that does not exist, no pass that fails for it.
    [
      "a taskDefinition family ECS does not have",
      JSON.stringify({ minWarm: 2, maxWarm: 6, replenishThreshold: 1, taskDefinition: "no-such-family" }),
      "taskDefinition",
    ],
    [
      "a taskDefinition revision ECS does not have",
      JSON.stringify({
        minWarm: 2,
        maxWarm: 6,
        replenishThreshold: 1,
        taskDefinition: `arn:aws:ecs:us-east-1:000000000000:task-definition/${FAMILY}:99`,
      }),
      "taskDefinition",
    ],
  ];

  it.each(invalid)(
    "invalid desired state (%s) → rejected naming the field; nothing started or stopped",
    async (_, raw, field) => {
      const launches = w.launches().length;
      const live = w.live().length;
      const stopCalls = w.emu.control.calls().StopTask?.ok ?? 0;
      const rejections = await metricValue(metrics, "configRejectionsTotal", { pool: w.pool });
      await w.redis.set(w.keys.config, raw);
      await waitFor(
        "rejection counted",
        async () =>
          (await metricValue(metrics, "configRejectionsTotal", { pool: w.pool })) === rejections + 1,
        10_000,
      );
      await settle(800);
      const s = await status();
      expect(s.config.valid).toBe(false);
      expect(s.config.lastRejection).toContain(field);
      expect(await metricValue(metrics, "configValid", { pool: w.pool })).toBe(0);
      const [entry] = await new ConfigStore(w.redis, w.keys).history(1);
      expect(entry?.result).toBe("rejected");
      expect(entry?.after).toBe(raw);
      expect(entry?.errors?.map((e) => e.field)).toContain(field);
      // The last good desired state stays in force.
      expect(s.desired).toMatchObject({ minWarm: 2, maxWarm: 6 });
      expect(w.launches()).toHaveLength(launches);
      expect(w.live()).toHaveLength(live);
      expect(w.emu.control.calls().StopTask?.ok ?? 0).toBe(stopCalls);
    },
  );

  it("a taskDefinition ECS lacks: ctl status says invalid (exit 12) and the pool refills on the last good revision", async () => {
    const good = { minWarm: 6, maxWarm: 10, replenishThreshold: 6 };
    await setDesired(w, good);
    await waitFor("6 warm", async () => (await w.states()).warm === 6, 20_000);
    const bad = JSON.stringify({ ...good, taskDefinition: "typo-family" });
    await w.redis.set(w.keys.config, bad);
    await waitFor(
      "the rejection in the history",
      async () => (await new ConfigStore(w.redis, w.keys).history(1))[0]?.after === bad,
      10_000,
    );
    const r = await ctl(["ctl", "status", "--redis-url", w.redisServer.url, "--pool", w.pool, "-o", "json"]);
    expect(r.code).toBe(12);
    const report = JSON.parse(r.out) as StatusReport;
    expect(report.desired.key).toBe("invalid");
    expect(report.desired.errors).toEqual([
      expect.objectContaining({ field: "taskDefinition", rule: "exists" }),
    ]);
    expect(report.desired.inForce).toMatchObject(good);
    expect(report.desired.inForce.taskDefinition).toBeUndefined();

    // A claim takes a warm task: the refill launches its replacement on the revision in force.
    const revision = (await status()).revision;
    const launched = w.launches().length;
    const svc = new ClaimService({ pool: w.pool, redis: w.redis, readyTimeoutMs: 60_000 });
    await svc.start();
    try {
      expect((await svc.begin({ userId: "u1", waitMs: 0 })).stage).toBe("assigned");
      await waitFor("a replacement launched", () => w.launches().length === launched + 1, 20_000);
    } finally {
      await svc.close();
    }
    expect(w.launches().at(-1)?.taskDefinitionArn).toBe(revision);
    expect(revision).toMatch(new RegExp(`task-definition/${FAMILY}:\\d+$`));
    expect((await status()).lastPass?.result).toBe("ok");
  });

  it("a valid value after rejections is taken again (config_valid back to 1)", async () => {
    await setDesired(w, { minWarm: 2, maxWarm: 6, replenishThreshold: 1 });
    await waitFor(
      "valid",
      async () => (await metricValue(metrics, "configValid", { pool: w.pool })) === 1,
      10_000,
    );
  });
});
