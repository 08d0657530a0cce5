import {
  DescribeTaskDefinitionCommand,
  DescribeTasksCommand,
  ListTasksCommand,
  RegisterTaskDefinitionCommand,
  RunTaskCommand,
  StopTaskCommand,
  type ECSClient,
} from "@aws-sdk/client-ecs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEmulator, type Emulator } from "../../hack/emulator/index.js";
import { ecsClient, errorCode, registerSleeper } from "./clients.js";

describe("emulator: ECS validation errors over the wire", () => {
  let emu: Emulator;
  let ecs: ECSClient;
  let td: string;
  let fargateTd: string;
  beforeAll(async () => {
    emu = await startEmulator({ timeScale: 0.01, rateLimits: false });
    ecs = ecsClient(emu);
    td = await registerSleeper(ecs);
    const f = await ecs.send(
      new RegisterTaskDefinitionCommand({
        family: "fg",
        networkMode: "awsvpc",
        requiresCompatibilities: ["FARGATE"],
        cpu: "256",
        memory: "512",
        containerDefinitions: [{ name: "main", image: "busybox" }],
      }),
    );
    fargateTd = f.taskDefinition?.taskDefinitionArn as string;
  });
  afterAll(async () => {
    await emu?.stop();
  });

  const table: { description: string; call: (e: ECSClient) => Promise<unknown>; code: string }[] = [
    {
      description: "RunTask count 0",
      call: (e) => e.send(new RunTaskCommand({ taskDefinition: td, count: 0 })),
      code: "InvalidParameterException",
    },
    {
      description: "RunTask count 11",
      call: (e) => e.send(new RunTaskCommand({ taskDefinition: td, count: 11 })),
      code: "InvalidParameterException",
    },
    {
      description: "RunTask unknown cluster",
      call: (e) => e.send(new RunTaskCommand({ taskDefinition: td, cluster: "nope" })),
      code: "ClusterNotFoundException",
    },
    {
      description: "RunTask unknown task definition",
      call: (e) => e.send(new RunTaskCommand({ taskDefinition: "ghost:1" })),
      code: "ClientException",
    },
    {
      description: "RunTask unknown revision",
      call: (e) => e.send(new RunTaskCommand({ taskDefinition: "sleeper:99" })),
      code: "ClientException",
    },
    {
      description: "RunTask startedBy longer than 36",
      call: (e) => e.send(new RunTaskCommand({ taskDefinition: td, startedBy: "x".repeat(37) })),
      code: "InvalidParameterException",
    },
    {
      description: "RunTask startedBy with a bad character",
      call: (e) => e.send(new RunTaskCommand({ taskDefinition: td, startedBy: "a b" })),
      code: "InvalidParameterException",
    },
    {
      description: "RunTask launchType and capacityProviderStrategy together",
      call: (e) =>
        e.send(
          new RunTaskCommand({
            taskDefinition: td,
            launchType: "EC2",
            capacityProviderStrategy: [{ capacityProvider: "FARGATE" }],
          }),
        ),
      code: "InvalidParameterException",
    },
    {
      description: "RunTask FARGATE with an EC2-only task definition",
      call: (e) => e.send(new RunTaskCommand({ taskDefinition: td, launchType: "FARGATE" })),
      code: "ClientException",
    },
    {
      description: "RunTask awsvpc without networkConfiguration",
      call: (e) => e.send(new RunTaskCommand({ taskDefinition: fargateTd, launchType: "FARGATE" })),
      code: "InvalidParameterException",
    },
    {
      description: "RunTask override of a container not in the task definition",
      call: (e) =>
        e.send(
          new RunTaskCommand({ taskDefinition: td, overrides: { containerOverrides: [{ name: "ghost" }] } }),
        ),
      code: "InvalidParameterException",
    },
    {
      description: "StopTask unknown task",
      call: (e) => e.send(new StopTaskCommand({ task: "0123456789abcdef0123456789abcdef" })),
      code: "InvalidParameterException",
    },
    {
      description: "StopTask malformed task id",
      call: (e) => e.send(new StopTaskCommand({ task: "not-a-task" })),
      code: "InvalidParameterException",
    },
    {
      description: "StopTask unknown cluster",
      call: (e) => e.send(new StopTaskCommand({ cluster: "nope", task: "0123456789abcdef0123456789abcdef" })),
      code: "ClusterNotFoundException",
    },
    {
      description: "DescribeTasks empty list",
      call: (e) => e.send(new DescribeTasksCommand({ tasks: [] })),
      code: "InvalidParameterException",
    },
    {
      description: "DescribeTasks 101 tasks",
      call: (e) =>
        e.send(
          new DescribeTasksCommand({
            tasks: Array.from({ length: 101 }, (_, i) => i.toString(16).padStart(32, "0")),
          }),
        ),
      code: "InvalidParameterException",
    },
    {
      description: "DescribeTasks unknown cluster",
      call: (e) =>
        e.send(new DescribeTasksCommand({ cluster: "nope", tasks: ["0123456789abcdef0123456789abcdef"] })),
      code: "ClusterNotFoundException",
    },
    {
      description: "ListTasks maxResults 0",
      call: (e) => e.send(new ListTasksCommand({ maxResults: 0 })),
      code: "InvalidParameterException",
    },
    {
      description: "ListTasks maxResults 101",
      call: (e) => e.send(new ListTasksCommand({ maxResults: 101 })),
      code: "InvalidParameterException",
    },
    {
      description: "ListTasks bad nextToken",
      call: (e) => e.send(new ListTasksCommand({ nextToken: "garbage!" })),
      code: "InvalidParameterException",
    },
    {
      description: "ListTasks startedBy + family",
      call: (e) => e.send(new ListTasksCommand({ startedBy: "a", family: "sleeper" })),
      code: "InvalidParameterException",
    },
    {
      description: "ListTasks startedBy + launchType",
      call: (e) => e.send(new ListTasksCommand({ startedBy: "a", launchType: "EC2" })),
      code: "InvalidParameterException",
    },
    {
      description: "ListTasks startedBy + serviceName",
      call: (e) => e.send(new ListTasksCommand({ startedBy: "a", serviceName: "svc" })),
      code: "InvalidParameterException",
    },
    {
      description: "ListTasks serviceName + family",
      call: (e) => e.send(new ListTasksCommand({ serviceName: "svc", family: "sleeper" })),
      code: "InvalidParameterException",
    },
    {
      description: "ListTasks unknown service",
      call: (e) => e.send(new ListTasksCommand({ serviceName: "svc" })),
      code: "ServiceNotFoundException",
    },
    {
      description: "ListTasks bad desiredStatus",
      call: (e) => e.send(new ListTasksCommand({ desiredStatus: "DONE" as "RUNNING" })),
      code: "InvalidParameterException",
    },
    {
      description: "ListTasks unknown cluster",
      call: (e) => e.send(new ListTasksCommand({ cluster: "nope" })),
      code: "ClusterNotFoundException",
    },
    {
      description: "DescribeTaskDefinition unknown",
      call: (e) => e.send(new DescribeTaskDefinitionCommand({ taskDefinition: "ghost" })),
      code: "ClientException",
    },
    {
      description: "RegisterTaskDefinition without containers",
      call: (e) => e.send(new RegisterTaskDefinitionCommand({ family: "x", containerDefinitions: [] })),
      code: "ClientException",
    },
    {
      description: "RegisterTaskDefinition FARGATE without awsvpc",
      call: (e) =>
        e.send(
          new RegisterTaskDefinitionCommand({
            family: "x",
            requiresCompatibilities: ["FARGATE"],
            cpu: "256",
            memory: "512",
            containerDefinitions: [{ name: "m", image: "i" }],
          }),
        ),
      code: "ClientException",
    },
    {
      description: "RegisterTaskDefinition family with a bad character",
      call: (e) =>
        e.send(
          new RegisterTaskDefinitionCommand({
            family: "a/b",
            containerDefinitions: [{ name: "m", image: "i", memory: 64 }],
          }),
        ),
      code: "ClientException",
    },
  ];

  for (const c of table) {
    it(`${c.description} → ${c.code}`, async () => {
      const before = emu.control.tasks().length;
      expect(await errorCode(c.call(ecs))).toBe(c.code);
      expect(emu.control.tasks().length).toBe(before); // bad input changes nothing
    });
  }

  it("answers errors as AWS JSON 1.1: status, __type and message", async () => {
    const res = await fetch(emu.endpoint, {
      method: "POST",
      headers: {
        "Content-Type": "application/x-amz-json-1.1",
        "X-Amz-Target": "AmazonEC2ContainerServiceV20141113.RunTask",
      },
      body: JSON.stringify({ taskDefinition: td, count: 11 }),
    });
    expect(res.status).toBe(400);
    expect(res.headers.get("content-type")).toBe("application/x-amz-json-1.1");
    const body = (await res.json()) as { __type: string; message: string };
    expect(body.__type).toBe("InvalidParameterException");
    expect(body.message).toMatch(/count/);
  });

  it("startedBy with desiredStatus is allowed; a PENDING filter returns nothing", async () => {
    await ecs.send(new RunTaskCommand({ taskDefinition: td, startedBy: "combo", count: 2 }));
    const l = await ecs.send(new ListTasksCommand({ startedBy: "combo", desiredStatus: "RUNNING" }));
    expect(l.taskArns?.length).toBe(2);
    const p = await ecs.send(new ListTasksCommand({ desiredStatus: "PENDING" }));
    expect(p.taskArns).toEqual([]);
  });

  it("DescribeTasks reports unknown ARNs as MISSING failures, not errors", async () => {
    const ghost = "arn:aws:ecs:us-east-1:000000000000:task/default/0123456789abcdef0123456789abcdef";
    const d = await ecs.send(new DescribeTasksCommand({ tasks: [ghost] }));
    expect(d.tasks).toEqual([]);
    expect(d.failures).toEqual([{ arn: ghost, reason: "MISSING" }]);
  });
});
