import { Registry } from "prom-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Emulator } from "../../hack/emulator/index.js";
import { EcsDriver, launchTasks, observeEcs } from "../../pkg/ecs/index.js";
import { createMetrics } from "../../pkg/metrics/index.js";
import { uniquePool, waitFor } from "../harness/index.js";
import { callsOf, startTestEmulator } from "./env.js";

describe("ECS driver against the emulator (real SDK over HTTP)", () => {
  let emu: Emulator;
  let td: string;
  beforeAll(async () => {
    ({ emu, taskDefinitionArn: td } = await startTestEmulator());
  });
  afterAll(async () => {
    await emu?.stop();
  });

  const driverFor = (pool: string, extra: Partial<ConstructorParameters<typeof EcsDriver>[0]> = {}) => {
    const metrics = createMetrics(new Registry(), { defaults: false });
    const driver = new EcsDriver({ cluster: "default", pool, endpoint: emu.endpoint, metrics, ...extra });
    return { driver, metrics };
  };

  it("launches in batches of ≤ 10 tagged with the pool, and observes with ⌈N/100⌉ list + describe calls", async () => {
    const pool = uniquePool("drv");
    const { driver } = driverFor(pool);
    emu.control.resetCalls();
    const recorded: string[] = [];
    const r = await launchTasks(driver, 125, td, async (tasks) => {
      recorded.push(...tasks.map((t) => t.taskId));
    });
    expect(r.errors).toEqual([]);
    expect(r.tasks).toHaveLength(125);
    expect(recorded).toHaveLength(125);
    expect(callsOf(emu, "RunTask").ok).toBe(13); // 12 × 10 + 1 × 5
    const mine = emu.control.tasks().filter((t) => t.startedBy === pool);
    expect(mine).toHaveLength(125);
    expect(mine.every((t) => t.tags.some((g) => g.key === "warmpool:pool" && g.value === pool))).toBe(true);

    emu.control.resetCalls();
    await waitFor("tasks listable", async () => (await observeEcs(driver)).tasks.length === 125, 10_000, 100);
    emu.control.resetCalls();
    const obs = await observeEcs(driver);
    expect(obs.tasks).toHaveLength(125);
    expect(obs.calls).toEqual({ list: 2, describe: 2 });
    expect(callsOf(emu, "ListTasks").ok).toBe(2);
    expect(callsOf(emu, "DescribeTasks").ok).toBe(2);
    driver.destroy();
  });

  it("sees a task that ListTasks does not list yet by describing the ARN the pool recorded", async () => {
    const pool = uniquePool("lag");
    const { driver } = driverFor(pool);
    const fault = emu.control.addFault({ kind: "listLag", ms: 5_000 });
    try {
      const r = await launchTasks(driver, 3, td);
      const listed = await observeEcs(driver);
      expect(listed.tasks).toHaveLength(0);
      const seen = await observeEcs(driver, { knownArns: r.tasks.map((t) => t.taskArn) });
      expect(seen.tasks.map((t) => t.taskId).sort()).toEqual(r.tasks.map((t) => t.taskId).sort());
    } finally {
      emu.control.clearFaults(fault);
      driver.destroy();
    }
  });

  it("stops a task with a reason", async () => {
    const pool = uniquePool("stop");
    const { driver } = driverFor(pool);
    const r = await launchTasks(driver, 1, td);
    const t = r.tasks[0]!;
    await driver.stopTask(t.taskArn, "warmpool: excess");
    const truth = emu.control.task(t.taskId)!;
    expect(truth.desiredStatus).toBe("STOPPED");
    expect(truth.stoppedReason).toBe("warmpool: excess");
    driver.destroy();
  });

  it("retries a throttling storm with backoff, counting every throttled attempt", async () => {
    const pool = uniquePool("thr");
    const { driver, metrics } = driverFor(pool, { retry: { maxAttempts: 12, baseMs: 20, maxMs: 400 } });
    emu.control.resetCalls();
    const fault = emu.control.addFault({ kind: "throttle", probability: 0.5, durationMs: 2_000 });
    try {
      const r = await launchTasks(driver, 30, td);
      expect(r.errors).toEqual([]);
      expect(r.tasks).toHaveLength(30);
    } finally {
      emu.control.clearFaults(fault);
    }
    const truth = callsOf(emu, "RunTask");
    expect(truth.ok).toBe(3);
    expect(emu.control.tasks().filter((t) => t.startedBy === pool)).toHaveLength(30);
    const counted = (await metrics.awsRequestsTotal.get()).values;
    const throttled =
      counted.find((v) => v.labels.api === "RunTask" && v.labels.outcome === "throttled")?.value ?? 0;
    expect(throttled).toBe(truth.throttled);
    driver.destroy();
  });

  it("counts RunTask failures by reason and returns them to the caller", async () => {
    const pool = uniquePool("fail");
    const { driver, metrics } = driverFor(pool);
    const fault = emu.control.addFault({ kind: "runTaskFailure", reason: "RESOURCE:CPU", count: 1 });
    try {
      const r = await launchTasks(driver, 4, td);
      // The fault fails one placement: ECS answers the placed tasks and one failure per unplaced one.
      expect(r.failures.length).toBeGreaterThan(0);
      expect(r.tasks.length + r.failures.length).toBe(4);
      expect(r.failures[0]!.reason).toBe("RESOURCE:CPU");
    } finally {
      emu.control.clearFaults(fault);
    }
    const v = (await metrics.runTaskFailuresTotal.get()).values.find(
      (x) => x.labels.reason === "RESOURCE:CPU",
    );
    expect(v?.value).toBeGreaterThan(0);
    driver.destroy();
  });

  it("resolves a family to the task definition ARN", async () => {
    const { driver } = driverFor(uniquePool("td"));
    expect(await driver.resolveTaskDefinition("warmpool-test")).toBe(td);
    driver.destroy();
  });
});
