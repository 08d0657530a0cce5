import { ECSClient, StopTaskCommand } from "@aws-sdk/client-ecs";
import { Registry } from "prom-client";
import { afterEach, describe, expect, it } from "vitest";
import { createMetrics } from "../../pkg/metrics/index.js";
import { waitFor } from "../harness/index.js";
import { metricValue, setDesired, startWorld, type World } from "./env.js";

const settle = (ms = 1_500) => new Promise((r) => setTimeout(r, ms));
const sum = (c: Record<string, { ok: number; throttled: number; error: number }>, outcome?: "throttled") =>
  Object.values(c).reduce((n, v) => n + (outcome ? v[outcome] : v.ok + v.throttled + v.error), 0);

describe("reconciler under faults (real Redis, emulator over HTTP)", () => {
  let w: World | undefined;
  afterEach(async () => {
    await w?.close();
    w = undefined;
  });

  it("a 50% throttling storm for 5 s: converges anyway, calls stay bounded, throttled calls are counted", async () => {
    w = await startWorld();
    const world = w;
    const metrics = createMetrics(new Registry(), { defaults: false });
    await setDesired(world, { minWarm: 10, maxWarm: 20, replenishThreshold: 3 });
    world.emu.control.resetCalls();
    const storm = world.emu.control.addFault({ kind: "throttle", probability: 0.5, durationMs: 5_000 });
    await world.startReconciler({ "resync-interval": "200ms" }, metrics);
    await settle(5_200);
    const during = world.emu.control.calls();
    world.emu.control.clearFaults(storm);
    await waitFor("10 warm", async () => (await world.states()).warm === 10, 30_000);
    await settle();
    expect(world.launches()).toHaveLength(10);
    // Bounded: a 200 ms resync is ~25 passes in 5 s, each ≥ 2 reads; the client-side bucket and
    // backoff keep the storm from multiplying that. Unbounded retries would be thousands.
    const total = sum(during);
    console.log(`throttling storm: ${total} ECS calls in 5 s, ${sum(during, "throttled")} throttled`);
    expect(total).toBeLessThan(400);
    const throttled = sum(during, "throttled");
    expect(throttled).toBeGreaterThan(0);
    let counted = 0;
    for (const api of ["ListTasks", "DescribeTasks", "RunTask", "StopTask", "DescribeTaskDefinition"]) {
      counted += await metricValue(metrics, "awsRequestsTotal", {
        pool: world.pool,
        api,
        outcome: "throttled",
      });
    }
    expect(counted).toBe(sum(world.emu.control.calls(), "throttled"));
  });

  it("RunTask failures (no capacity) back off instead of retrying in a tight loop, then converge", async () => {
    w = await startWorld();
    const world = w;
    const metrics = createMetrics(new Registry(), { defaults: false });
    await setDesired(world, { minWarm: 5, maxWarm: 20, replenishThreshold: 3 });
    world.emu.control.resetCalls();
    const fault = world.emu.control.addFault({
      kind: "runTaskFailure",
      reason: "RESOURCE:CPU",
      durationMs: 4_000,
    });
    await world.startReconciler({ "resync-interval": "100ms" }, metrics);
    await settle(4_000);
    const during = world.emu.control.calls().RunTask?.ok ?? 0;
    world.emu.control.clearFaults(fault);
    // A 100 ms resync would try ~40 times in 4 s; exponential backoff from 1 s allows a handful.
    expect(during).toBeGreaterThan(0);
    expect(during).toBeLessThanOrEqual(6);
    expect(
      await metricValue(metrics, "runTaskFailuresTotal", { pool: world.pool, reason: "RESOURCE:CPU" }),
    ).toBeGreaterThan(0);
    await waitFor("5 warm", async () => (await world.states()).warm === 5, 30_000);
    await settle();
    expect(world.live()).toHaveLength(5);
  });

  it("two reconcilers on one pool: only one acts", async () => {
    w = await startWorld();
    const world = w;
    await setDesired(world, { minWarm: 5, maxWarm: 20, replenishThreshold: 3 });
    const ma = createMetrics(new Registry(), { defaults: false });
    const mb = createMetrics(new Registry(), { defaults: false });
    const [a, b] = await Promise.all([
      world.startReconciler({ "resync-interval": "200ms" }, ma),
      world.startReconciler({ "resync-interval": "200ms" }, mb),
    ]);
    await waitFor("5 warm", async () => (await world.states()).warm === 5, 20_000);
    await settle(2_000);
    expect(world.launches()).toHaveLength(5);
    const held = [a.reconciler.lease.held, b.reconciler.lease.held];
    expect(held.filter(Boolean)).toHaveLength(1);
    const runs = async (m: typeof ma) =>
      metricValue(m, "actionsTotal", { pool: world.pool, action: "run", reason: "below-target" });
    const [ra, rb] = [await runs(ma), await runs(mb)];
    expect(ra + rb).toBe(5);
    expect(held[0] ? rb : ra).toBe(0);
    const leaderId = await world.redis.get(world.keys.leader);
    expect(leaderId).toBe(held[0] ? a.reconciler.holderId : b.reconciler.holderId);
  });

  it("Redis unreachable: no task stopped, /readyz fails; all recovers when Redis returns", async () => {
    w = await startWorld();
    const world = w;
    await setDesired(world, { minWarm: 4, maxWarm: 20, replenishThreshold: 2 });
    const rec = await world.startReconciler({ "resync-interval": "200ms", "lease-ttl": "2s" });
    await waitFor("4 warm", async () => (await world.states()).warm === 4, 20_000);
    const ready = async () => (await fetch(`${rec.ops.url}/readyz`)).status;
    expect(await ready()).toBe(200);

    world.stopBridges();
    const pid = world.redisServer.pid;
    process.kill(pid, "SIGSTOP"); // a partition: the server holds its data but answers nothing
    const partitionedAt = Date.now();
    try {
      const ecs = new ECSClient({ endpoint: world.emu.endpoint, region: "us-east-1" });
      const victim = world.live()[0]!;
      await ecs.send(
        new StopTaskCommand({ cluster: "default", task: victim.taskArn, reason: "out of band" }),
      );
      ecs.destroy();
      const stopsBefore = world.emu.control.calls().StopTask?.ok ?? 0;
      await waitFor("/readyz to fail", async () => (await ready()) === 503, 10_000, 200);
      await waitFor("lease to lapse", () => !rec.reconciler.lease.held, 10_000, 100);
      await settle(3_000);
      // Nothing acted: no stop beyond the out-of-band one. A pass that had read Redis just before
      // the partition may still launch the replacement it planned (at most that one, within a
      // moment of the partition); no pass after it launches anything without Redis.
      expect(world.emu.control.calls().StopTask?.ok ?? 0).toBe(stopsBefore);
      const extra = world.launches().slice(4);
      expect(extra.length).toBeLessThanOrEqual(1);
      for (const t of extra) expect(t.createdAt).toBeLessThan(partitionedAt + 1_000);
      expect(world.live()).toHaveLength(3 + extra.length);
    } finally {
      process.kill(pid, "SIGCONT");
    }
    await waitFor("/readyz back", async () => (await ready()) === 200, 15_000, 200);
    await waitFor("lease back", () => rec.reconciler.lease.held, 15_000, 100);
    await waitFor("replacement launched", () => world.launches().length === 5, 15_000);
    await settle();
    expect(world.launches()).toHaveLength(5);
    expect(world.live()).toHaveLength(4);
  });
});
