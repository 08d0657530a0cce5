/**
 * The driver's retry after a lost RunTask answer. The emulator performs the RunTask and then
 * loses the answer (`dropAnswer`: the connection is reset; `slow`+`hang`: no answer until the
 * driver's request timeout). The driver retries with the same `clientToken`, and ECS (here the
 * emulator, as ECS documents) answers the retry with the first call's tasks: the emulator's
 * ground truth shows each task launched exactly once.
 */
import { Registry } from "prom-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Emulator } from "../../hack/emulator/index.js";
import { EcsDriver, launchTasks } from "../../pkg/ecs/index.js";
import { createMetrics, type Metrics } from "../../pkg/metrics/index.js";
import { uniquePool } from "../harness/index.js";
import { callsOf, startTestEmulator } from "./env.js";

async function attempts(metrics: Metrics, api: string): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const v of (await metrics.awsRequestsTotal.get()).values)
    if (v.labels.api === api) out[String(v.labels.outcome)] = v.value;
  return out;
}

describe("ECS driver: a RunTask whose answer is lost is retried with the same clientToken", () => {
  let emu: Emulator;
  let td: string;
  beforeAll(async () => {
    ({ emu, taskDefinitionArn: td } = await startTestEmulator({ rateLimits: false }));
  });
  afterAll(async () => {
    await emu?.stop();
  });

  const driverFor = (pool: string, requestTimeoutMs?: number) => {
    const metrics = createMetrics(new Registry(), { defaults: false });
    const driver = new EcsDriver({
      cluster: "default",
      pool,
      endpoint: emu.endpoint,
      metrics,
      retry: { baseMs: 10, maxMs: 50 },
      ...(requestTimeoutMs ? { requestTimeoutMs } : {}),
    });
    return { driver, metrics };
  };
  const launchedFor = (pool: string) => emu.control.tasks().filter((t) => t.startedBy === pool);

  it("connection reset after the launch: one retry, the first call's tasks, nothing launched twice", async () => {
    const pool = uniquePool("lost");
    const { driver, metrics } = driverFor(pool);
    emu.control.resetCalls();
    emu.control.addFault({ kind: "dropAnswer", op: "RunTask", count: 1 });
    const before = emu.control.launchedCount();

    const r = await driver.runTask({ count: 3, taskDefinition: td, clientToken: "lost-answer-reset-1" });

    // Ground truth: the emulator ran RunTask twice (both succeeded on its side) and launched 3 tasks.
    expect(callsOf(emu, "RunTask")).toEqual({ ok: 2, throttled: 0, error: 0 });
    expect(emu.control.faults().find((f) => f.fault.kind === "dropAnswer")?.fired).toBe(1);
    expect(emu.control.launchedCount() - before).toBe(3);
    const launched = launchedFor(pool).map((t) => t.taskArn);
    expect(launched).toHaveLength(3);
    // The retry's answer names exactly the tasks the lost call launched.
    expect(r.tasks.map((t) => t.taskArn).sort()).toEqual([...launched].sort());
    expect(r.failures).toEqual([]);
    // The driver saw (and counted) the lost answer as an error, then the retry as ok.
    expect(await attempts(metrics, "RunTask")).toEqual({ error: 1, ok: 1 });
    emu.control.clearFaults();
    driver.destroy();
  });

  it(
    "no answer until the request timeout: the retry launches nothing more",
    { timeout: 30_000 },
    async () => {
      const pool = uniquePool("hang");
      const { driver, metrics } = driverFor(pool, 1_000);
      emu.control.resetCalls();
      emu.control.addFault({ kind: "slow", op: "RunTask", hang: true, count: 1 });
      const before = emu.control.launchedCount();

      const r = await driver.runTask({ count: 2, taskDefinition: td, clientToken: "lost-answer-hang-1" });

      expect(callsOf(emu, "RunTask").ok).toBe(2);
      expect(emu.control.launchedCount() - before).toBe(2);
      expect(r.tasks.map((t) => t.taskArn).sort()).toEqual(
        launchedFor(pool)
          .map((t) => t.taskArn)
          .sort(),
      );
      expect(await attempts(metrics, "RunTask")).toEqual({ error: 1, ok: 1 });
      emu.control.clearFaults();
      driver.destroy();
    },
  );

  it("launchTasks: a lost answer in the middle batch still ends with exactly the count asked", async () => {
    const pool = uniquePool("batch");
    const { driver } = driverFor(pool);
    emu.control.resetCalls();
    let calls = 0;
    const before = emu.control.launchedCount();
    const r = await launchTasks(driver, 25, td, () => {
      // After the first batch is recorded, the next call's answer is lost.
      if (++calls === 1) emu.control.addFault({ kind: "dropAnswer", op: "RunTask", count: 1 });
      return Promise.resolve();
    });
    expect(r.errors).toEqual([]);
    expect(r.tasks).toHaveLength(25);
    expect(new Set(r.tasks.map((t) => t.taskArn)).size).toBe(25);
    // 3 batches (10, 10, 5) plus one retry: four calls answered ok by the emulator, 25 launched.
    expect(callsOf(emu, "RunTask").ok).toBe(4);
    expect(emu.control.launchedCount() - before).toBe(25);
    expect(launchedFor(pool)).toHaveLength(25);
    emu.control.clearFaults();
    driver.destroy();
  });

  it("the fault is seen by a plain SDK client as ECONNRESET, after the tasks were launched", async () => {
    const { ECSClient, RunTaskCommand } = await import("@aws-sdk/client-ecs");
    const client = new ECSClient({ endpoint: emu.endpoint, region: "us-east-1", maxAttempts: 1 });
    emu.control.addFault({ kind: "dropAnswer", op: "RunTask" });
    const before = emu.control.launchedCount();
    const err = await client
      .send(new RunTaskCommand({ taskDefinition: td, count: 2, startedBy: "plain" }))
      .then(() => undefined)
      .catch((e: unknown) => e as { code?: string; name?: string });
    expect(err?.code ?? err?.name).toBe("ECONNRESET");
    expect(emu.control.launchedCount() - before).toBe(2);
    emu.control.clearFaults();
    client.destroy();
  });
});
