import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RunTaskCommand, ECSClient } from "@aws-sdk/client-ecs";
import type { Emulator } from "../../hack/emulator/index.js";
import type { AsgDriver } from "../../pkg/asg/index.js";
import { waitFor } from "../harness/index.js";
import { callsOf, driverFor, groupTruth, registerTask, startAsgEmulator } from "./env.js";

describe("AsgDriver against the emulator through the SDK", () => {
  let emu: Emulator;
  let driver: AsgDriver;
  let td: string;

  beforeAll(async () => {
    emu = await startAsgEmulator({
      autoScaling: {
        timings: {
          warmUp: 5_000,
          coldLaunch: 10_000,
          resume: { Hibernated: 2_000, Stopped: 20_000, Running: 3_000 },
          terminate: 1_000,
        },
        groups: [
          {
            name: "big",
            minSize: 0,
            maxSize: 200,
            desiredCapacity: 2,
            cluster: "c1",
            capacity: { cpu: 2048, memory: 4096 },
            warmPool: { minSize: 120, maxGroupPreparedCapacity: 120, poolState: "Hibernated" },
          },
          {
            name: "reuse",
            minSize: 0,
            maxSize: 10,
            desiredCapacity: 0,
            cluster: "c2",
            warmPool: { minSize: 1, maxGroupPreparedCapacity: 1, poolState: "Stopped", reuseOnScaleIn: true },
          },
        ],
      },
    });
    driver = driverFor(emu, "c1");
    td = await registerTask(emu, "agent", 512, 1024);
  });
  afterAll(async () => {
    driver?.destroy();
    await emu?.stop();
  });

  it("describes the group and its instances", async () => {
    await waitFor(
      "2 InService",
      () => groupTruth(emu, "big").instances.filter((i) => i.lifecycleState === "InService").length === 2,
    );
    const g = await driver.describeGroup("big");
    expect(g).toMatchObject({ name: "big", minSize: 0, maxSize: 200, desiredCapacity: 2 });
    expect(g?.instances.map((i) => i.lifecycleState)).toEqual(["InService", "InService"]);
    expect(await driver.describeGroup("nope")).toBeUndefined();
  });

  it("reads every warm-pool page, 50 instances a page", async () => {
    await waitFor(
      "120 hibernated",
      () =>
        groupTruth(emu, "big").instances.filter((i) => i.lifecycleState === "Warmed:Hibernated").length ===
        120,
    );
    emu.control.resetCalls();
    const wp = await driver.describeWarmPool("big");
    expect(wp.instances.length).toBe(120);
    expect(new Set(wp.instances.map((i) => i.instanceId)).size).toBe(120);
    expect(wp.config).toEqual({
      minSize: 120,
      maxGroupPreparedCapacity: 120,
      poolState: "Hibernated",
      reuseOnScaleIn: false,
    });
    expect(callsOf(emu, "DescribeWarmPool").ok).toBe(3);
  });

  it("PutWarmPool shows in the emulator's ground truth, without ReuseOnScaleIn", async () => {
    await driver.putWarmPool({
      groupName: "big",
      minSize: 3,
      maxGroupPreparedCapacity: 3,
      poolState: "Hibernated",
    });
    expect(groupTruth(emu, "big").warmPool).toEqual({
      minSize: 3,
      maxGroupPreparedCapacity: 3,
      poolState: "Hibernated",
      reuseOnScaleIn: false,
    });
    await waitFor(
      "pool shrinks to 3",
      () =>
        groupTruth(emu, "big").instances.filter((i) => i.warm && i.lifecycleState === "Warmed:Hibernated")
          .length === 3,
    );
    // A pool someone created with ReuseOnScaleIn comes back without it.
    await driver.putWarmPool({
      groupName: "reuse",
      minSize: 1,
      maxGroupPreparedCapacity: 1,
      poolState: "Hibernated",
    });
    expect(groupTruth(emu, "reuse").warmPool?.reuseOnScaleIn).toBe(false);
  });

  it("SetDesiredCapacity draws on the warm pool: hibernated instances resume to InService", async () => {
    const before = new Set(
      groupTruth(emu, "big")
        .instances.filter((i) => i.warm)
        .map((i) => i.instanceId),
    );
    await driver.setDesiredCapacity("big", 4);
    expect(groupTruth(emu, "big").desiredCapacity).toBe(4);
    await waitFor(
      "4 InService",
      () => groupTruth(emu, "big").instances.filter((i) => i.lifecycleState === "InService").length === 4,
    );
    const resumed = groupTruth(emu, "big").instances.filter(
      (i) => before.has(i.instanceId) && i.lifecycleState === "InService",
    );
    expect(resumed.length).toBe(2);
    expect(resumed[0]?.history.map((h) => h.state)).toEqual(
      expect.arrayContaining(["Warmed:Hibernated", "Pending", "InService"]),
    );
  });

  it("reads container instances with registered and remaining CPU/memory and task counts", async () => {
    const ecs = new ECSClient({ endpoint: emu.endpoint, region: emu.region, maxAttempts: 1 });
    const run = await ecs.send(
      new RunTaskCommand({ cluster: "c1", taskDefinition: td, launchType: "EC2", count: 3 }),
    );
    ecs.destroy();
    expect(run.tasks?.length).toBe(3);
    const cis = await driver.containerInstances();
    expect(cis.length).toBe(4);
    const inService = new Set(
      groupTruth(emu, "big")
        .instances.filter((i) => i.lifecycleState === "InService")
        .map((i) => i.instanceId),
    );
    expect(cis.every((c) => c.ec2InstanceId && inService.has(c.ec2InstanceId))).toBe(true);
    expect(cis.every((c) => c.registered.cpu === 2048 && c.registered.memory === 4096)).toBe(true);
    expect(cis.reduce((n, c) => n + c.tasks, 0)).toBe(3);
    expect(cis.reduce((n, c) => n + (c.registered.cpu - c.remaining.cpu), 0)).toBe(3 * 512);
    expect(cis.reduce((n, c) => n + (c.registered.memory - c.remaining.memory), 0)).toBe(3 * 1024);
    expect(await driver.taskSize(td)).toEqual({ cpu: 512, memory: 1024 });
  });

  it("backs off and retries through throttling, counting every attempt", async () => {
    emu.control.resetCalls();
    emu.control.addFault({ kind: "throttle", op: "DescribeAutoScalingGroups", count: 3 });
    const g = await driver.describeGroup("big");
    expect(g?.desiredCapacity).toBe(4);
    expect(callsOf(emu, "DescribeAutoScalingGroups")).toEqual({ ok: 1, throttled: 3, error: 0 });
  });

  it(
    "a call with no answer times out and is retried: the driver does not hang",
    { timeout: 20_000 },
    async () => {
      const d = driverFor(emu, "c1", { requestTimeoutMs: 1_000 });
      emu.control.resetCalls();
      emu.control.addFault({ kind: "slow", op: "DescribeAutoScalingGroups", hang: true, count: 1 });
      const g = await d.describeGroup("big");
      expect(g?.desiredCapacity).toBe(4);
      // Two calls reached the emulator: the hung one and the retry that was answered.
      expect(callsOf(emu, "DescribeAutoScalingGroups").ok).toBe(2);
      emu.control.clearFaults();
    },
  );

  it("a validation error is not retried and names the field", async () => {
    emu.control.resetCalls();
    await expect(driver.setDesiredCapacity("big", 500)).rejects.toThrow(/above max value 200/);
    expect(callsOf(emu, "SetDesiredCapacity").error).toBe(1);
  });

  it("SetInstanceProtection sets ProtectedFromScaleIn in the emulator's ground truth and in describeGroup", async () => {
    emu.control.resetCalls();
    const ids = groupTruth(emu, "big")
      .instances.filter((i) => i.lifecycleState === "InService")
      .map((i) => i.instanceId)
      .sort();
    expect(ids.length).toBeGreaterThanOrEqual(2);
    const [first] = ids as [string];
    await driver.setInstanceProtection("big", [first], true);
    expect(driver.protectionSupported).toBe(true);
    const truth = groupTruth(emu, "big").instances.filter((i) => i.protectedFromScaleIn);
    expect(truth.map((i) => i.instanceId)).toEqual([first]);
    const g = await driver.describeGroup("big");
    expect(
      g?.instances
        .filter((i) => i.protectedFromScaleIn)
        .map((i) => i.instanceId)
        .sort(),
    ).toEqual([first]);
    await driver.setInstanceProtection("big", [first], false);
    expect(groupTruth(emu, "big").instances.some((i) => i.protectedFromScaleIn)).toBe(false);
    expect(callsOf(emu, "SetInstanceProtection")).toEqual({ ok: 2, throttled: 0, error: 0 });
  });

  it("an instance not in the group is a validation error, not a sign protection is unsupported", async () => {
    const err = await driver.setInstanceProtection("big", ["i-x"], true).catch((e: unknown) => e);
    expect(String(err)).toMatch(/scale-in protection/);
    expect(String((err as Error).cause)).toMatch(/not part of Auto Scaling group big/);
    expect(driver.protectionSupported).toBe(true);
  });

  it("SetInstanceProtection refused as an unknown operation marks protection unsupported", async () => {
    // An endpoint without the operation (as some stand-ins answer) — injected, the emulator has it.
    emu.control.addFault({
      kind: "error",
      op: "SetInstanceProtection",
      code: "InvalidAction",
      status: 400,
      message: "Could not find operation SetInstanceProtection for version 2011-01-01",
      count: 1,
    });
    const err = await driver.setInstanceProtection("big", ["i-x"], true).catch((e: unknown) => e);
    expect(String(err)).toMatch(/scale-in protection/);
    expect(driver.protectionSupported).toBe(false);
  });
});
