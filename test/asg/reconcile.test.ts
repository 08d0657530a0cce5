import { Registry } from "prom-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Emulator } from "../../hack/emulator/index.js";
import { CapacityReconciler, type AsgDriver, type CapacityPassInput } from "../../pkg/asg/index.js";
import { DEFAULT_DESIRED } from "../../pkg/config/index.js";
import { createMetrics, type Metrics } from "../../pkg/metrics/index.js";
import { waitFor } from "../harness/index.js";
import { callsOf, driverFor, groupTruth, registerTask, startAsgEmulator } from "./env.js";

describe("CapacityReconciler: one pass against the emulator", () => {
  let emu: Emulator;
  let driver: AsgDriver;
  let metrics: Metrics;
  let capacity: CapacityReconciler;
  let td: string;
  const input = (over: Partial<CapacityPassInput> = {}): CapacityPassInput => ({
    desired: {
      ...DEFAULT_DESIRED,
      asg: { groupName: "g", poolState: "Hibernated", minWarmInstances: 1, headroomInstances: 0 },
    },
    plan: {
      target: 4,
      counts: { starting: 0, expected: 0, warm: 4, claimed: 0, draining: 0, waiting: 0, total: 4 },
      actions: [],
    },
    taskDefinition: td,
    failures: [],
    ...over,
  });

  beforeAll(async () => {
    emu = await startAsgEmulator({
      autoScaling: {
        timings: { warmUp: 100_000, coldLaunch: 10_000 },
        groups: [
          {
            name: "g",
            minSize: 0,
            maxSize: 10,
            desiredCapacity: 1,
            cluster: "c",
            capacity: { cpu: 2048, memory: 4096 },
          },
        ],
      },
    });
    driver = driverFor(emu, "c", { retry: { maxAttempts: 3, baseMs: 1, maxMs: 5 } });
    metrics = createMetrics(new Registry(), { defaults: false });
    capacity = new CapacityReconciler({ pool: "p", driver, metrics, minIntervalMs: 0 });
    td = await registerTask(emu, "agent", 512, 1024);
    await waitFor("1 InService", () =>
      groupTruth(emu, "g").instances.some((i) => i.lifecycleState === "InService"),
    );
  });
  afterAll(async () => {
    driver?.destroy();
    await emu?.stop();
  });

  const gauge = async (state: string): Promise<number | undefined> =>
    (await metrics.asgInstances.get()).values.find((v) => v.labels.state === state)?.value;

  it("without an asg block it does nothing and calls nothing", async () => {
    emu.control.resetCalls();
    expect(await capacity.reconcile({ ...input(), desired: DEFAULT_DESIRED })).toBeUndefined();
    expect(emu.control.calls()).toEqual({});
  });

  it("a partial observation writes nothing", async () => {
    emu.control.resetCalls();
    const id = emu.control.addFault({ kind: "error", op: "DescribeWarmPool", count: 10 });
    const r = await capacity.reconcile(input());
    emu.control.clearFaults(id);
    expect(r?.plan.held).toBe("partial-observation");
    expect(r?.errors.join()).toMatch(/warm pool of g/);
    expect(callsOf(emu, "PutWarmPool").ok + callsOf(emu, "SetDesiredCapacity").ok).toBe(0);
  });

  it("writes the warm pool once with the computed values, counts the action, exports instances by state", async () => {
    const r = await capacity.reconcile(input());
    expect(r?.done).toEqual([
      {
        kind: "put-warm-pool",
        minSize: 1,
        maxGroupPreparedCapacity: 1,
        poolState: "Hibernated",
        reason: "create",
      },
    ]);
    expect(groupTruth(emu, "g").warmPool).toMatchObject({
      minSize: 1,
      maxGroupPreparedCapacity: 1,
      reuseOnScaleIn: false,
    });
    const actions = (await metrics.actionsTotal.get()).values;
    expect(actions).toEqual([{ labels: { pool: "p", action: "put-warm-pool", reason: "create" }, value: 1 }]);
    // The warm instance boots for ~1 s (Warmed:Pending), then hibernates.
    expect((await capacity.reconcile(input()))?.done).toEqual([]);
    expect(await gauge("Warmed:Pending")).toBe(1);
    await waitFor("hibernated", () =>
      groupTruth(emu, "g").instances.some((i) => i.lifecycleState === "Warmed:Hibernated"),
    );
    await capacity.reconcile(input());
    expect(await gauge("InService")).toBe(1);
    expect(await gauge("Warmed:Hibernated")).toBe(1);
    // A state seen once and gone since reads 0, not its last value.
    expect(await gauge("Warmed:Pending")).toBe(0);
  });

  it("with minIntervalMs, an unchanged demand reuses the last pass; a changed one observes at once", async () => {
    const rationed = new CapacityReconciler({ pool: "p", driver, minIntervalMs: 60_000 });
    const first = await rationed.reconcile(input());
    expect(first?.reused).toBeUndefined();
    emu.control.resetCalls();
    const again = await rationed.reconcile(input());
    expect(again?.reused).toBe(true);
    expect(again?.plan.reason).toBe(first?.plan.reason);
    expect(emu.control.calls()).toEqual({});
    const more = input({
      plan: {
        target: 3,
        counts: { starting: 0, expected: 0, warm: 4, claimed: 0, draining: 0, waiting: 0, total: 4 },
        actions: [],
      },
    });
    const changed = await rationed.reconcile(more);
    expect(changed?.reused).toBeUndefined();
    expect(changed?.done).toEqual([]);
    expect(callsOf(emu, "DescribeAutoScalingGroups").ok).toBe(1);
  });

  it("a lost lease stops the pass before any write", async () => {
    emu.control.resetCalls();
    const lost = (): void => {
      throw new Error("lease lost");
    };
    const burst = input({
      plan: {
        target: 4,
        counts: { starting: 0, expected: 0, warm: 0, claimed: 8, draining: 0, waiting: 0, total: 8 },
        actions: [],
      },
      assertMayAct: lost,
    });
    await expect(capacity.reconcile(burst)).rejects.toThrow(/lease lost/);
    expect(callsOf(emu, "SetDesiredCapacity").ok).toBe(0);
    expect(groupTruth(emu, "g").desiredCapacity).toBe(1);
  });
});
