import {
  CreateClusterCommand,
  DescribeTasksCommand,
  RunTaskCommand,
  StopTaskCommand,
  type ECSClient,
} from "@aws-sdk/client-ecs";
import {
  DeleteMessageBatchCommand,
  GetQueueUrlCommand,
  ReceiveMessageCommand,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEmulator, type Emulator, type EventEnvelope } from "../../hack/emulator/index.js";
import { waitFor } from "../harness/index.js";
import { ecsClient, registerSleeper, sqsClient } from "./clients.js";

/** Drains a queue through the SDK (deleting what it read) until `until` holds for what was read. */
async function drain(
  sqs: SQSClient,
  url: string,
  until: (events: EventEnvelope[]) => boolean,
  into: EventEnvelope[] = [],
): Promise<EventEnvelope[]> {
  const deadline = Date.now() + 20_000;
  while (!until(into)) {
    if (Date.now() > deadline) throw new Error(`queue drained ${into.length} events, condition still false`);
    const r = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
    );
    const msgs = r.Messages ?? [];
    for (const m of msgs) into.push(JSON.parse(m.Body as string) as EventEnvelope);
    if (msgs.length)
      await sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: url,
          Entries: msgs.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })),
        }),
      );
  }
  return into;
}

describe("emulator: ECS task state change events to SQS", () => {
  let emu: Emulator;
  let ecs: ECSClient;
  let sqs: SQSClient;
  let td: string;
  let url: string;
  beforeAll(async () => {
    emu = await startEmulator({
      timeScale: 0.01,
      eventRules: [{ name: "pool-feed", queueName: "ecs-events", clusters: ["feed"] }],
    });
    ecs = ecsClient(emu);
    sqs = sqsClient(emu);
    await ecs.send(new CreateClusterCommand({ clusterName: "feed" }));
    td = await registerSleeper(ecs, "feed-sleeper");
    url = (await sqs.send(new GetQueueUrlCommand({ QueueName: "ecs-events" }))).QueueUrl as string;
  });
  afterAll(async () => {
    await emu?.stop();
  });

  it("publishes every change of a task, envelope and detail as EventBridge delivers them", async () => {
    const run = await ecs.send(
      new RunTaskCommand({
        cluster: "feed",
        taskDefinition: td,
        startedBy: "p1",
        group: "warmpool:p1",
        count: 1,
      }),
    );
    const arn = run.tasks![0]!.taskArn!;
    await waitFor("task RUNNING", () => emu.control.task(arn)?.lastStatus === "RUNNING");
    await ecs.send(new StopTaskCommand({ cluster: "feed", task: arn, reason: "pool shrink" }));
    await waitFor("task STOPPED", () => emu.control.task(arn)?.lastStatus === "STOPPED");
    const events = await drain(sqs, url, (ev) => ev.some((e) => e.detail.lastStatus === "STOPPED"));

    const truth = emu.control.task(arn)!;
    // One event per change: creation, every lastStatus step, and the desiredStatus flip of StopTask.
    expect(events.map((e) => e.detail.version)).toEqual(
      Array.from({ length: truth.version }, (_, i) => i + 1),
    );
    expect(events.map((e) => `${e.detail.lastStatus}/${e.detail.desiredStatus}`)).toEqual([
      "PROVISIONING/RUNNING",
      "PENDING/RUNNING",
      "RUNNING/RUNNING",
      "RUNNING/STOPPED",
      "DEACTIVATING/STOPPED",
      "STOPPING/STOPPED",
      "STOPPED/STOPPED",
    ]);
    expect(emu.control.feed().tasks[arn]).toMatchObject({ published: 7, delivered: 7, dropped: 0 });

    for (const e of events) {
      expect(e).toMatchObject({
        version: "0",
        "detail-type": "ECS Task State Change",
        source: "aws.ecs",
        account: emu.accountId,
        region: emu.region,
        resources: [arn],
      });
      expect(e.id).toMatch(/^[0-9a-f-]{36}$/);
      expect(e.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      expect(e.detail).toMatchObject({
        taskArn: arn,
        clusterArn: `arn:aws:ecs:${emu.region}:${emu.accountId}:cluster/feed`,
        startedBy: "p1",
        group: "warmpool:p1",
        taskDefinitionArn: td,
      });
      expect(e.detail.createdAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    }
    // The last event says what DescribeTasks says, times as ISO strings instead of epoch seconds.
    const last = events.at(-1)!.detail;
    const described = (await ecs.send(new DescribeTasksCommand({ cluster: "feed", tasks: [arn] })))
      .tasks![0]!;
    expect(last).toMatchObject({
      lastStatus: described.lastStatus,
      desiredStatus: described.desiredStatus,
      version: described.version,
      stopCode: "UserInitiated",
      stoppedReason: "pool shrink",
      stoppedAt: described.stoppedAt!.toISOString(),
      startedAt: described.startedAt!.toISOString(),
      createdAt: described.createdAt!.toISOString(),
    });
    expect((last.containers as { lastStatus: string }[])[0]?.lastStatus).toBe("STOPPED");
  });

  it("a rule on one cluster hears nothing from another", async () => {
    const before = emu.control.feed().totals.published;
    const run = await ecs.send(new RunTaskCommand({ cluster: "default", taskDefinition: td }));
    const arn = run.tasks![0]!.taskArn!;
    await waitFor("task RUNNING", () => emu.control.task(arn)?.lastStatus === "RUNNING");
    expect(emu.control.feed().totals.published).toBe(before);
    expect(emu.control.feed().tasks[arn]).toBeUndefined();
  });

  it("eventLatencyMs holds every event that long before it reaches the queue", async () => {
    const slow = await startEmulator({
      timeScale: 0.01,
      eventLatencyMs: 300,
      eventRules: [{ queueName: "slow" }],
    });
    try {
      const e = ecsClient(slow);
      const arn = (await e.send(new RunTaskCommand({ taskDefinition: await registerSleeper(e, "slow") })))
        .tasks![0]!.taskArn!;
      await waitFor("RUNNING", () => slow.control.task(arn)?.lastStatus === "RUNNING");
      await waitFor("all delivered", () => slow.control.feed().tasks[arn]?.delivered === 3);
      const records = slow.control.events(arn);
      for (const r of records) expect(r.deliveredAt! - r.at).toBeGreaterThanOrEqual(299);
      expect(slow.control.feed().tasks[arn]?.delayed).toBe(0); // latency is not a fault
    } finally {
      await slow.stop();
    }
  });
});
