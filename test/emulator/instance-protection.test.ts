/**
 * SetInstanceProtection over the Query protocol: DescribeAutoScalingGroups reports
 * ProtectedFromScaleIn, a scale-in picks only unprotected instances (zones balanced first), a
 * group whose surplus is all protected stays above its desired capacity until protection is
 * removed, NewInstancesProtectedFromScaleIn protects what enters the group, and bad calls
 * answer the model's errors and change nothing.
 */
import {
  CreateAutoScalingGroupCommand,
  DescribeAutoScalingGroupsCommand,
  PutWarmPoolCommand,
  SetDesiredCapacityCommand,
  SetInstanceProtectionCommand,
  UpdateAutoScalingGroupCommand,
  type AutoScalingClient,
  type Instance,
} from "@aws-sdk/client-auto-scaling";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEmulator, type Emulator } from "../../hack/emulator/index.js";
import { waitFor } from "../harness/index.js";
import { autoScalingClient, errorCode } from "./clients.js";

describe("emulator: SetInstanceProtection and a scale-in that honours it", () => {
  let emu: Emulator;
  let asg: AutoScalingClient;

  const instances = async (name: string): Promise<Instance[]> => {
    const out = await asg.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [name] }));
    return out.AutoScalingGroups?.[0]?.Instances ?? [];
  };
  const inService = async (name: string): Promise<Instance[]> =>
    (await instances(name)).filter((i) => i.LifecycleState === "InService");
  /** Ground truth: ids of the group's instances that ever reached Terminating. */
  const terminated = (name: string): string[] =>
    (emu.control.autoScalingGroups().find((g) => g.name === name)?.instances ?? [])
      .filter((i) => i.lifecycleState.includes("Terminat"))
      .map((i) => i.instanceId);
  const protect = (name: string, ids: string[], on: boolean) =>
    asg.send(
      new SetInstanceProtectionCommand({
        AutoScalingGroupName: name,
        InstanceIds: ids,
        ProtectedFromScaleIn: on,
      }),
    );

  async function groupOf(name: string, desired: number, extra: { protectNew?: boolean } = {}): Promise<void> {
    await asg.send(
      new CreateAutoScalingGroupCommand({
        AutoScalingGroupName: name,
        MinSize: 0,
        MaxSize: 10,
        DesiredCapacity: desired,
        AvailabilityZones: ["us-east-1a", "us-east-1b"],
        NewInstancesProtectedFromScaleIn: extra.protectNew,
      }),
    );
    await waitFor(
      `${name}: ${desired} InService`,
      async () => (await inService(name)).length === desired,
      15_000,
    );
  }

  beforeAll(async () => {
    emu = await startEmulator({
      timeScale: 1,
      rateLimits: false,
      // Terminating lasts long enough to be seen; only `Hibernated` resume is given (a partial object).
      autoScaling: {
        timings: { coldLaunch: 50, warmUp: 50, terminate: 300, resume: { Hibernated: 30 } },
      },
    });
    asg = autoScalingClient(emu);
  });
  afterAll(async () => {
    await emu?.stop();
  });

  it("a scale-in terminates unprotected instances only; protection shows in DescribeAutoScalingGroups", async () => {
    await groupOf("web", 4);
    const all = await inService("web");
    expect(all.every((i) => i.ProtectedFromScaleIn === false)).toBe(true);
    // Protect the two newest: without protection they are exactly what the scale-in would pick.
    const truth = emu.control.autoScalingGroups().find((g) => g.name === "web")?.instances ?? [];
    const newest = [...truth].sort((a, b) => b.launchedAt - a.launchedAt).slice(0, 2);
    const kept = newest.map((i) => i.instanceId).sort();
    await protect("web", kept, true);
    const after = await instances("web");
    expect(
      after
        .filter((i) => i.ProtectedFromScaleIn)
        .map((i) => i.InstanceId)
        .sort(),
    ).toEqual(kept);

    await asg.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: "web", DesiredCapacity: 2 }));
    await waitFor("two left", async () => (await instances("web")).length === 2, 10_000);
    expect((await inService("web")).map((i) => i.InstanceId).sort()).toEqual(kept);
    expect(terminated("web").filter((id) => kept.includes(id))).toEqual([]);

    // Every surplus instance protected: desired 0 is accepted, nothing terminates.
    await asg.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: "web", DesiredCapacity: 0 }));
    await new Promise((r) => setTimeout(r, 500));
    expect((await inService("web")).map((i) => i.InstanceId).sort()).toEqual(kept);
    const [first, second] = kept as [string, string];

    // Removing protection from one lets the waiting scale-in take it, and only it.
    await protect("web", [first], false);
    await waitFor("unprotected one gone", async () => (await instances("web")).length === 1, 10_000);
    expect((await inService("web")).map((i) => i.InstanceId)).toEqual([second]);
    expect(terminated("web")).not.toContain(second);
  });

  it("the scale-in takes from the zone with the most instances first", async () => {
    await groupOf("zones", 4);
    const zone = async (): Promise<string[]> =>
      (await inService("zones")).map((i) => i.AvailabilityZone as string).sort();
    expect(await zone()).toEqual(["us-east-1a", "us-east-1a", "us-east-1b", "us-east-1b"]);
    // Both in zone a protected: 4 → 3 must take from b, leaving a with 2 and b with 1.
    const inA = (await inService("zones"))
      .filter((i) => i.AvailabilityZone === "us-east-1a")
      .map((i) => i.InstanceId as string);
    await protect("zones", inA, true);
    await asg.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: "zones", DesiredCapacity: 3 }));
    await waitFor("three left", async () => (await instances("zones")).length === 3, 10_000);
    expect(await zone()).toEqual(["us-east-1a", "us-east-1a", "us-east-1b"]);
    // Unprotected again, 3 → 2 balances: the victim is in a, the zone with the most.
    await protect("zones", inA, false);
    await asg.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: "zones", DesiredCapacity: 2 }));
    await waitFor("two left", async () => (await instances("zones")).length === 2, 10_000);
    expect(await zone()).toEqual(["us-east-1a", "us-east-1b"]);
  });

  it("NewInstancesProtectedFromScaleIn protects cold launches and instances resumed from the warm pool", async () => {
    await groupOf("guarded", 1, { protectNew: true });
    expect((await inService("guarded")).map((i) => i.ProtectedFromScaleIn)).toEqual([true]);
    const described = await asg.send(
      new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: ["guarded"] }),
    );
    expect(described.AutoScalingGroups?.[0]?.NewInstancesProtectedFromScaleIn).toBe(true);

    await asg.send(
      new PutWarmPoolCommand({
        AutoScalingGroupName: "guarded",
        MinSize: 1,
        MaxGroupPreparedCapacity: 1,
        PoolState: "Hibernated",
      }),
    );
    const groupTruth = () => emu.control.autoScalingGroups().find((g) => g.name === "guarded");
    await waitFor("one hibernated", () =>
      (groupTruth()?.instances ?? []).some((i) => i.lifecycleState === "Warmed:Hibernated"),
    );
    const warm = (groupTruth()?.instances ?? []).find((i) => i.warm);
    expect(warm?.protectedFromScaleIn).toBe(false);
    // Warm-pool instances are refused, and the refusal changes nothing.
    expect(await errorCode(protect("guarded", [warm?.instanceId as string], true))).toBe("ValidationError");

    await asg.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: "guarded", DesiredCapacity: 2 }));
    await waitFor("two in service", async () => (await inService("guarded")).length === 2, 10_000);
    const resumed = (await inService("guarded")).find((i) => i.InstanceId === warm?.instanceId);
    expect(resumed?.ProtectedFromScaleIn).toBe(true);

    // Turning the group setting off applies to instances entering later, not to those in it.
    await asg.send(
      new UpdateAutoScalingGroupCommand({
        AutoScalingGroupName: "guarded",
        NewInstancesProtectedFromScaleIn: false,
      }),
    );
    expect((await inService("guarded")).every((i) => i.ProtectedFromScaleIn)).toBe(true);
  });

  it("bad calls answer the model's errors and change nothing", async () => {
    await groupOf("strict", 1);
    const [one] = (await inService("strict")).map((i) => i.InstanceId as string) as [string];
    const ids51 = Array.from({ length: 51 }, (_, k) => `i-${String(k).padStart(17, "0")}`);
    const table: [string, () => Promise<unknown>, string][] = [
      ["unknown group", () => protect("ghost", [one], true), "ValidationError"],
      [
        "an id not in the group (with a good one)",
        () => protect("strict", [one, "i-0000000000000000"], true),
        "ValidationError",
      ],
      ["an id longer than 19", () => protect("strict", ["i-" + "0".repeat(18)], true), "ValidationError"],
      ["51 ids", () => protect("strict", ids51, true), "LimitExceededFault"],
    ];
    for (const [what, call, code] of table) expect([what, await errorCode(call())]).toEqual([what, code]);
    expect((await inService("strict")).map((i) => i.ProtectedFromScaleIn)).toEqual([false]);

    const raw = async (body: string): Promise<string> => {
      const res = await fetch(emu.endpoint, {
        method: "POST",
        headers: { "Content-Type": "application/x-www-form-urlencoded; charset=utf-8" },
        body: `Action=SetInstanceProtection&Version=2011-01-01&${body}`,
      });
      expect(res.status).toBe(400);
      return res.text();
    };
    expect(await raw(`AutoScalingGroupName=strict&InstanceIds.member.1=${one}`)).toMatch(
      /<Code>ValidationError<\/Code><Message>[^<]*'ProtectedFromScaleIn'/,
    );
    expect(await raw("AutoScalingGroupName=strict&ProtectedFromScaleIn=true")).toMatch(
      /<Code>ValidationError<\/Code><Message>[^<]*'InstanceIds'/,
    );
    expect(
      await raw(`AutoScalingGroupName=strict&InstanceIds.member.1=${one}&ProtectedFromScaleIn=yes`),
    ).toMatch(/ProtectedFromScaleIn must be true or false/);
    expect((await inService("strict")).map((i) => i.ProtectedFromScaleIn)).toEqual([false]);

    await protect("strict", [one], true);
    expect((await inService("strict")).map((i) => i.ProtectedFromScaleIn)).toEqual([true]);
  });
});
