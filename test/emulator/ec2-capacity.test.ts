import { SetDesiredCapacityCommand } from "@aws-sdk/client-auto-scaling";
import {
  DescribeClustersCommand,
  DescribeContainerInstancesCommand,
  ListContainerInstancesCommand,
  RegisterTaskDefinitionCommand,
  RunTaskCommand,
  StartTaskCommand,
  StopTaskCommand,
  type ECSClient,
  type RunTaskCommandOutput,
} from "@aws-sdk/client-ecs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEmulator, type Emulator } from "../../hack/emulator/index.js";
import { waitFor } from "../harness/index.js";
import { autoScalingClient, ecsClient, errorCode } from "./clients.js";

describe("emulator: EC2 capacity from Auto Scaling instances", () => {
  let emu: Emulator;
  let ecs: ECSClient;
  const td: Record<string, string> = {};
  const register = async (family: string, cpu: number, memory: number): Promise<void> => {
    const out = await ecs.send(
      new RegisterTaskDefinitionCommand({
        family,
        containerDefinitions: [{ name: "main", image: "busybox", cpu, memory }],
      }),
    );
    td[family] = out.taskDefinition?.taskDefinitionArn as string;
  };
  const run = (family: string, count = 1): Promise<RunTaskCommandOutput> =>
    ecs.send(new RunTaskCommand({ cluster: "ec2", taskDefinition: td[family], launchType: "EC2", count }));

  beforeAll(async () => {
    emu = await startEmulator({
      timeScale: 0.01,
      rateLimits: false,
      autoScaling: {
        timings: { coldLaunch: 100_000, terminate: 1_000 },
        groups: [
          {
            name: "cap",
            minSize: 0,
            maxSize: 2,
            desiredCapacity: 1,
            cluster: "ec2",
            capacity: { cpu: 1024, memory: 1024 },
          },
        ],
      },
    });
    ecs = ecsClient(emu);
    await register("half-cpu", 512, 256);
    await register("fat", 128, 2000);
  });
  afterAll(async () => {
    await emu?.stop();
  });

  it("before any instance is InService, an EC2 RunTask finds no container instances", async () => {
    expect(await errorCode(run("half-cpu"))).toBe("InvalidParameterException");
    expect(emu.control.launchedCount()).toBe(0);
  });

  it("registers an instance with its CPU and memory; tasks reserve it; RESOURCE:CPU / RESOURCE:MEMORY when it lacks", async () => {
    await waitFor(
      "instance registered",
      () => emu.control.containerInstances().some((c) => c.status === "ACTIVE"),
      10_000,
    );
    const list = await ecs.send(new ListContainerInstancesCommand({ cluster: "ec2" }));
    expect(list.containerInstanceArns?.length).toBe(1);
    const ciArn = list.containerInstanceArns?.[0] as string;
    const reg = (
      await ecs.send(new DescribeContainerInstancesCommand({ cluster: "ec2", containerInstances: [ciArn] }))
    ).containerInstances?.[0];
    const res = (
      r: typeof reg,
      which: "registeredResources" | "remainingResources",
      name: string,
    ): number | undefined => r?.[which]?.find((x) => x.name === name)?.integerValue;
    expect(res(reg, "registeredResources", "CPU")).toBe(1024);
    expect(res(reg, "registeredResources", "MEMORY")).toBe(1024);
    const cl = await ecs.send(new DescribeClustersCommand({ clusters: ["ec2"] }));
    expect(cl.clusters?.[0]?.registeredContainerInstancesCount).toBe(1);

    const mem = await run("fat");
    expect(mem.failures?.map((f) => f.reason)).toEqual(["RESOURCE:MEMORY"]);
    expect(mem.failures?.[0]?.arn).toBe(ciArn);

    const two = await run("half-cpu", 3);
    expect(two.tasks?.length).toBe(2);
    expect(two.tasks?.every((t) => t.containerInstanceArn === ciArn)).toBe(true);
    expect(two.failures?.map((f) => f.reason)).toEqual(["RESOURCE:CPU"]);
    const after = (
      await ecs.send(new DescribeContainerInstancesCommand({ cluster: "ec2", containerInstances: [ciArn] }))
    ).containerInstances?.[0];
    expect(res(after, "remainingResources", "CPU")).toBe(0);
    expect(res(after, "remainingResources", "MEMORY")).toBe(512);

    // Stopping a task gives its share back once it is STOPPED.
    const first = two.tasks?.[0]?.taskArn as string;
    await ecs.send(new StopTaskCommand({ cluster: "ec2", task: first }));
    await waitFor("stopped", () => emu.control.task(first)?.lastStatus === "STOPPED");
    const again = await run("half-cpu");
    expect(again.tasks?.length).toBe(1);
    expect(again.failures).toEqual([]);
    expect(again.tasks?.[0]?.availabilityZone).toBe(
      emu.control.containerInstances().find((c) => c.containerInstanceArn === ciArn)?.availabilityZone,
    );

    // StartTask names the instance: it is full now, and an unknown one is MISSING.
    const ghost = ciArn.replace(/[0-9a-f]{32}$/, "0".repeat(32));
    const start = await ecs.send(
      new StartTaskCommand({
        cluster: "ec2",
        taskDefinition: td["half-cpu"],
        containerInstances: [ciArn, ghost],
      }),
    );
    expect(start.tasks).toEqual([]);
    expect(start.failures).toEqual([
      { arn: ciArn, reason: "RESOURCE:CPU" },
      { arn: ghost, reason: "MISSING" },
    ]);
    const small = await ecs.send(
      new RegisterTaskDefinitionCommand({
        family: "tiny",
        containerDefinitions: [{ name: "m", image: "i", cpu: 0, memory: 64 }],
      }),
    );
    const started = await ecs.send(
      new StartTaskCommand({
        cluster: "ec2",
        taskDefinition: small.taskDefinition?.taskDefinitionArn,
        containerInstances: [ciArn],
        startedBy: "by-hand",
      }),
    );
    expect(started.tasks?.[0]?.containerInstanceArn).toBe(ciArn);
    expect(started.tasks?.[0]?.startedBy).toBe("by-hand");
    await ecs.send(new StopTaskCommand({ cluster: "ec2", task: started.tasks?.[0]?.taskArn }));
    await waitFor(
      "stopped",
      () => emu.control.task(started.tasks?.[0]?.taskArn as string)?.lastStatus === "STOPPED",
    );
  });

  it("scaling the group in deregisters the instance and stops the tasks on it", async () => {
    const asg = autoScalingClient(emu);
    const onIt = emu.control
      .tasks()
      .filter((t) => t.clusterName === "ec2" && t.desiredStatus === "RUNNING")
      .map((t) => t.taskArn);
    expect(onIt.length).toBe(2);
    await asg.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: "cap", DesiredCapacity: 0 }));
    await waitFor(
      "tasks stopped",
      () => onIt.every((a) => emu.control.task(a)?.lastStatus === "STOPPED"),
      10_000,
    );
    expect(emu.control.task(onIt[0] as string)?.stopCode).toBe("TerminationNotice");
    expect(
      (await ecs.send(new ListContainerInstancesCommand({ cluster: "ec2" }))).containerInstanceArns,
    ).toEqual([]);
    expect(await errorCode(run("half-cpu"))).toBe("InvalidParameterException");
  });
});
