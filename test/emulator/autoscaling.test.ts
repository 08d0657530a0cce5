import {
  CreateAutoScalingGroupCommand,
  DeleteWarmPoolCommand,
  DescribeAutoScalingGroupsCommand,
  DescribeWarmPoolCommand,
  PutWarmPoolCommand,
  SetDesiredCapacityCommand,
  type AutoScalingClient,
} from "@aws-sdk/client-auto-scaling";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEmulator, type AutoScalingTimings, type Emulator } from "../../hack/emulator/index.js";
import { waitFor } from "../harness/index.js";
import { autoScalingClient, errorCode } from "./clients.js";

// Fixed timings (ms before scaling): a cold launch is 20× slower than a resume from hibernation.
const TIMINGS: AutoScalingTimings = {
  coldLaunch: 20_000,
  warmUp: 4_000,
  resume: { Hibernated: 200, Stopped: 600, Running: 100 },
  terminate: 4_000,
  returnToWarmPool: 800,
};

const states = async (asg: AutoScalingClient, name: string): Promise<string[]> => {
  const out = await asg.send(new DescribeWarmPoolCommand({ AutoScalingGroupName: name }));
  return (out.Instances ?? []).map((i) => i.LifecycleState as string).sort();
};
const groupStates = async (asg: AutoScalingClient, name: string): Promise<string[]> => {
  const out = await asg.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [name] }));
  return (out.AutoScalingGroups?.[0]?.Instances ?? []).map((i) => i.LifecycleState as string).sort();
};

describe("emulator: EC2 Auto Scaling warm pools over the Query protocol", () => {
  let emu: Emulator;
  let asg: AutoScalingClient;
  beforeAll(async () => {
    emu = await startEmulator({ timeScale: 0.05, rateLimits: false, autoScaling: { timings: TIMINGS } });
    asg = autoScalingClient(emu);
  });
  afterAll(async () => {
    await emu?.stop();
  });

  it("warm pool fills hibernated; scale out resumes from it faster than a cold launch; instances register with ECS", async () => {
    await asg.send(
      new CreateAutoScalingGroupCommand({
        AutoScalingGroupName: "web",
        MinSize: 0,
        MaxSize: 6,
        DesiredCapacity: 0,
        AvailabilityZones: ["us-east-1a", "us-east-1b"],
        Tags: [{ Key: "emulator:ecs-cluster", Value: "ec2", PropagateAtLaunch: false }],
      }),
    );
    await asg.send(
      new PutWarmPoolCommand({
        AutoScalingGroupName: "web",
        MaxGroupPreparedCapacity: 3,
        PoolState: "Hibernated",
      }),
    );
    expect((await states(asg, "web")).length).toBe(3);
    await waitFor("hibernated", async () =>
      (await states(asg, "web")).every((s) => s === "Warmed:Hibernated"),
    );
    const wp = await asg.send(new DescribeWarmPoolCommand({ AutoScalingGroupName: "web" }));
    expect(wp.WarmPoolConfiguration).toMatchObject({
      MaxGroupPreparedCapacity: 3,
      MinSize: 0,
      PoolState: "Hibernated",
    });

    // Desired 4: three come out of the warm pool (prepared capacity 3 − 4 < 0 → pool target 0), one cold.
    await asg.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: "web", DesiredCapacity: 4 }));
    const right = await groupStates(asg, "web");
    expect(right.length).toBe(4);
    for (const st of right) expect(["Pending", "InService"]).toContain(st);
    await waitFor(
      "in service",
      async () => (await groupStates(asg, "web")).every((s) => s === "InService"),
      15_000,
    );
    expect(await states(asg, "web")).toEqual([]);

    const g = emu.control.autoScalingGroups().find((x) => x.name === "web");
    const gap = (h: { state: string; at: number }[]): number =>
      (h.find((x) => x.state === "InService")?.at as number) -
      (h.findLast((x) => x.state === "Pending")?.at as number);
    const resumed = g?.instances.filter((i) => i.history.some((h) => h.state === "Warmed:Hibernated")) ?? [];
    const cold = g?.instances.filter((i) => !i.history.some((h) => h.state.startsWith("Warmed:"))) ?? [];
    expect(resumed.length).toBe(3);
    expect(cold.length).toBe(1);
    for (const r of resumed) {
      expect(r.history.map((h) => h.state)).toEqual([
        "Warmed:Pending",
        "Warmed:Hibernated",
        "Pending",
        "InService",
      ]);
      expect(gap(r.history)).toBeLessThan(gap(cold[0]?.history ?? []));
    }
    expect(cold[0]?.history.map((h) => h.state)).toEqual(["Pending", "InService"]);

    const cis = emu.control
      .containerInstances()
      .filter((c) => c.clusterName === "ec2" && c.status === "ACTIVE");
    expect(cis.map((c) => c.ec2InstanceId).sort()).toEqual(g?.instances.map((i) => i.instanceId).sort());
  });

  it("scale in with ReuseOnScaleIn returns instances to the warm pool; DeleteWarmPool drains it", async () => {
    await asg.send(
      new CreateAutoScalingGroupCommand({
        AutoScalingGroupName: "reuse",
        MinSize: 0,
        MaxSize: 3,
        DesiredCapacity: 2,
      }),
    );
    await asg.send(
      new PutWarmPoolCommand({
        AutoScalingGroupName: "reuse",
        MaxGroupPreparedCapacity: 2,
        PoolState: "Stopped",
        InstanceReusePolicy: { ReuseOnScaleIn: true },
      }),
    );
    await waitFor(
      "2 in service",
      async () => (await groupStates(asg, "reuse")).join() === "InService,InService",
      15_000,
    );
    await asg.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: "reuse", DesiredCapacity: 0 }));
    await waitFor(
      "back in the pool",
      async () => (await states(asg, "reuse")).join() === "Warmed:Stopped,Warmed:Stopped",
      15_000,
    );
    expect(await groupStates(asg, "reuse")).toEqual([]);
    expect(
      emu.control.containerInstances().filter((c) => c.clusterName === "default" && c.status === "ACTIVE"),
    ).toEqual([]);

    await asg.send(new DeleteWarmPoolCommand({ AutoScalingGroupName: "reuse" }));
    const during = await asg.send(new DescribeWarmPoolCommand({ AutoScalingGroupName: "reuse" }));
    expect(during.WarmPoolConfiguration?.Status).toBe("PendingDelete");
    await waitFor("pool gone", async () => {
      const out = await asg.send(new DescribeWarmPoolCommand({ AutoScalingGroupName: "reuse" }));
      return out.WarmPoolConfiguration === undefined && (out.Instances ?? []).length === 0;
    });
  });

  it("DescribeWarmPool pages by MaxRecords ≤ 50 with NextToken", async () => {
    await asg.send(
      new CreateAutoScalingGroupCommand({
        AutoScalingGroupName: "big",
        MinSize: 0,
        MaxSize: 70,
        DesiredCapacity: 0,
      }),
    );
    await asg.send(
      new PutWarmPoolCommand({ AutoScalingGroupName: "big", MinSize: 60, MaxGroupPreparedCapacity: 60 }),
    );
    const first = await asg.send(new DescribeWarmPoolCommand({ AutoScalingGroupName: "big" }));
    expect(first.Instances?.length).toBe(50);
    expect(first.NextToken).toBeTruthy();
    const second = await asg.send(
      new DescribeWarmPoolCommand({ AutoScalingGroupName: "big", NextToken: first.NextToken }),
    );
    expect(second.Instances?.length).toBe(10);
    expect(second.NextToken).toBeUndefined();
    const ids = [...(first.Instances ?? []), ...(second.Instances ?? [])].map((i) => i.InstanceId);
    expect(new Set(ids).size).toBe(60);
    const small: string[] = [];
    let token: string | undefined;
    do {
      const out = await asg.send(
        new DescribeWarmPoolCommand({ AutoScalingGroupName: "big", MaxRecords: 7, NextToken: token }),
      );
      small.push(...(out.Instances ?? []).map((i) => i.InstanceId as string));
      token = out.NextToken;
    } while (token);
    expect(new Set(small)).toEqual(new Set(ids));
  });

  it("answers ValidationError / InvalidNextToken as Query-protocol XML errors", async () => {
    await asg.send(
      new CreateAutoScalingGroupCommand({ AutoScalingGroupName: "plain", MinSize: 0, MaxSize: 1 }),
    );
    const table: [string, () => Promise<unknown>, string][] = [
      [
        "MaxRecords 51",
        () => asg.send(new DescribeWarmPoolCommand({ AutoScalingGroupName: "web", MaxRecords: 51 })),
        "ValidationError",
      ],
      [
        "unknown group",
        () => asg.send(new DescribeWarmPoolCommand({ AutoScalingGroupName: "ghost" })),
        "ValidationError",
      ],
      [
        "bad NextToken",
        () => asg.send(new DescribeWarmPoolCommand({ AutoScalingGroupName: "web", NextToken: "x!" })),
        "InvalidNextToken",
      ],
      [
        "desired above max",
        () => asg.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: "web", DesiredCapacity: 7 })),
        "ValidationError",
      ],
      [
        "bad pool state",
        () =>
          asg.send(new PutWarmPoolCommand({ AutoScalingGroupName: "web", PoolState: "Frozen" as "Stopped" })),
        "ValidationError",
      ],
      [
        "duplicate group",
        () =>
          asg.send(
            new CreateAutoScalingGroupCommand({ AutoScalingGroupName: "web", MinSize: 0, MaxSize: 1 }),
          ),
        "AlreadyExistsFault",
      ],
      [
        "no warm pool to delete",
        () => asg.send(new DeleteWarmPoolCommand({ AutoScalingGroupName: "plain" })),
        "ValidationError",
      ],
    ];
    for (const [what, call, code] of table) expect([what, await errorCode(call())]).toEqual([what, code]);
    expect(
      (await asg.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: ["web"] })))
        .AutoScalingGroups?.[0]?.DesiredCapacity,
    ).toBe(4);

    const res = await fetch(emu.endpoint, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded; charset=utf-8" },
      body: "Action=SetDesiredCapacity&Version=2011-01-01&AutoScalingGroupName=web&DesiredCapacity=99",
    });
    expect(res.status).toBe(400);
    const xml = await res.text();
    expect(xml).toMatch(
      /^<ErrorResponse xmlns="http:\/\/autoscaling.amazonaws.com\/doc\/2011-01-01\/"><Error><Type>Sender<\/Type><Code>ValidationError<\/Code><Message>New SetDesiredCapacity value 99 is above max value 6/,
    );
  });
});
