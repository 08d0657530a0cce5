import { RunTaskCommand, StopTaskCommand, type ECSClient } from "@aws-sdk/client-ecs";
import { ReceiveMessageCommand, type SQSClient } from "@aws-sdk/client-sqs";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startEmulator, type Emulator, type EventEnvelope } from "../../hack/emulator/index.js";
import { waitFor } from "../harness/index.js";
import { ecsClient, registerSleeper, sqsClient } from "./clients.js";

interface Got {
  messageId: string;
  event: EventEnvelope;
}

describe("emulator: faults on the event feed", () => {
  let emu: Emulator;
  let ecs: ECSClient;
  let sqs: SQSClient;
  let td: string;
  let url: string;
  beforeAll(async () => {
    emu = await startEmulator({
      timeScale: 0.01,
      eventRules: [{ name: "feed", queueName: "faulty-events" }],
    });
    ecs = ecsClient(emu);
    sqs = sqsClient(emu);
    td = await registerSleeper(ecs, "fault-sleeper");
    url = `${emu.endpoint}/${emu.accountId}/faulty-events`;
  });
  afterEach(async () => {
    emu.control.clearFaults();
    await read(); // leave the queue empty for the next case
  });
  afterAll(async () => {
    await emu?.stop();
  });

  /** Everything in the queue now (visibility 600 s: each message read once), in queue order. */
  async function read(): Promise<Got[]> {
    const out: Got[] = [];
    for (;;) {
      const r = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, VisibilityTimeout: 600 }),
      );
      if (!r.Messages?.length) return out;
      for (const m of r.Messages)
        out.push({ messageId: m.MessageId!, event: JSON.parse(m.Body!) as EventEnvelope });
    }
  }

  async function runToRunning(): Promise<string> {
    const arn = (await ecs.send(new RunTaskCommand({ taskDefinition: td }))).tasks![0]!.taskArn!;
    await waitFor("RUNNING", () => emu.control.task(arn)?.lastStatus === "RUNNING");
    return arn;
  }

  const statuses = (got: Got[], arn: string): string[] =>
    got.filter((g) => g.event.detail.taskArn === arn).map((g) => g.event.detail.lastStatus);

  it("drop: the event never reaches the queue; the control reports it dropped", async () => {
    emu.control.addFault({ kind: "eventDrop", lastStatus: "RUNNING" });
    const arn = await runToRunning();
    expect(statuses(await read(), arn)).toEqual(["PROVISIONING", "PENDING"]);
    expect(emu.control.feed().tasks[arn]).toMatchObject({ published: 3, delivered: 2, dropped: 1 });
    expect(emu.control.events(arn).map((e) => `${e.lastStatus}:${e.fate}`)).toEqual([
      "PROVISIONING:delivered",
      "PENDING:delivered",
      "RUNNING:dropped",
    ]);
  });

  it("duplicate: the same event (same id and version) arrives as two messages", async () => {
    emu.control.addFault({ kind: "eventDuplicate", lastStatus: "PENDING", count: 1 });
    const arn = await runToRunning();
    const got = (await read()).filter((g) => g.event.detail.taskArn === arn);
    expect(got.map((g) => g.event.detail.lastStatus)).toEqual([
      "PROVISIONING",
      "PENDING",
      "PENDING",
      "RUNNING",
    ]);
    expect(got[1]!.event.id).toBe(got[2]!.event.id);
    expect(got[1]!.messageId).not.toBe(got[2]!.messageId);
    expect(emu.control.feed().tasks[arn]).toMatchObject({ published: 3, delivered: 4, duplicated: 1 });
  });

  it("reorder: an event is held back until the task's next one has gone out", async () => {
    emu.control.addFault({ kind: "eventReorder", lastStatus: "PENDING" });
    const arn = await runToRunning();
    const got = (await read()).filter((g) => g.event.detail.taskArn === arn);
    expect(got.map((g) => `${g.event.detail.lastStatus}@${g.event.detail.version}`)).toEqual([
      "PROVISIONING@1",
      "RUNNING@3",
      "PENDING@2",
    ]);
    expect(emu.control.feed().tasks[arn]).toMatchObject({ published: 3, delivered: 3, reordered: 1 });
  });

  it("delay: an event reaches the queue late, after the task has moved on", async () => {
    emu.control.addFault({ kind: "eventDelay", lastStatus: "RUNNING", delayMs: 1_000 });
    const arn = await runToRunning();
    expect(statuses(await read(), arn)).toEqual(["PROVISIONING", "PENDING"]);
    await waitFor("delayed event delivered", () => emu.control.feed().tasks[arn]?.delivered === 3);
    expect(statuses(await read(), arn)).toEqual(["RUNNING"]);
    expect(emu.control.events(arn).at(-1)).toMatchObject({
      lastStatus: "RUNNING",
      delayedMs: 1_000,
      fate: "delivered",
    });
  });

  it("queue unavailable (errors): ReceiveMessage answers 503 while events keep arriving", async () => {
    emu.control.resetCalls();
    const id = emu.control.addFault({ kind: "queueUnavailable", op: "ReceiveMessage" });
    const arn = await runToRunning();
    let err: { name?: string; $metadata?: { httpStatusCode?: number } } | undefined;
    await sqs
      .send(new ReceiveMessageCommand({ QueueUrl: url }))
      .catch((e: unknown) => (err = e as typeof err));
    expect(err?.$metadata?.httpStatusCode).toBe(503);
    expect(emu.control.sqsCalls().ReceiveMessage).toEqual({ ok: 0, throttled: 0, error: 1 });
    expect(emu.control.calls().ReceiveMessage).toBeUndefined(); // never in the ECS figures
    emu.control.clearFaults(id);
    expect(statuses(await read(), arn)).toEqual(["PROVISIONING", "PENDING", "RUNNING"]);
  });

  it("queue unavailable (reset): the connection drops without an answer", async () => {
    emu.control.addFault({ kind: "queueUnavailable", mode: "reset", count: 1 });
    const err = await sqs.send(new ReceiveMessageCommand({ QueueUrl: url })).then(
      () => undefined,
      (e: unknown) => e as { name?: string; code?: string; $metadata?: { httpStatusCode?: number } },
    );
    expect(err).toBeDefined();
    expect(err?.$metadata?.httpStatusCode).toBeUndefined(); // no HTTP answer at all
    await sqs.send(new ReceiveMessageCommand({ QueueUrl: url })); // count 1: the next call passes
  });

  it("faults, rules and ground truth over the control API", async () => {
    const post = (path: string, body: unknown): Promise<Response> =>
      fetch(`${emu.endpoint}${path}`, { method: "POST", body: JSON.stringify(body) });
    const bad = await post("/_emulator/faults", { kind: "eventDelay" });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { message: string }).message).toMatch(/fault\.delayMs/);
    const badRule = await post("/_emulator/feed/rules", { queueName: "no spaces allowed" });
    expect(badRule.status).toBe(400);
    expect(((await badRule.json()) as { message: string }).message).toMatch(/rule\.queueName/);

    expect((await post("/_emulator/faults", { kind: "eventDrop", lastStatus: "STOPPED" })).status).toBe(201);
    expect(
      (await post("/_emulator/feed/rules", { name: "second", queueName: "second-q", clusters: ["default"] }))
        .status,
    ).toBe(201);
    const arn = await runToRunning();
    await ecs.send(new StopTaskCommand({ task: arn }));
    await waitFor("STOPPED", () => emu.control.task(arn)?.lastStatus === "STOPPED");
    const feed = (await (await fetch(`${emu.endpoint}/_emulator/feed`)).json()) as {
      rules: { name: string }[];
      tasks: Record<string, { published: number; dropped: number }>;
    };
    expect(feed.rules.map((r) => r.name)).toEqual(["feed", "second"]);
    // Two rules: each change goes to both targets; the STOPPED event is dropped on each.
    expect(feed.tasks[arn]).toMatchObject({ published: 14, dropped: 2 });
    const events = (await (
      await fetch(`${emu.endpoint}/_emulator/feed/events?taskArn=${encodeURIComponent(arn)}`)
    ).json()) as {
      events: { rule: string; lastStatus: string; fate: string }[];
    };
    expect(events.events.filter((e) => e.fate === "dropped").map((e) => `${e.rule}:${e.lastStatus}`)).toEqual(
      ["feed:STOPPED", "second:STOPPED"],
    );
    expect((await fetch(`${emu.endpoint}/_emulator/feed/rules/second`, { method: "DELETE" })).status).toBe(
      200,
    );
  });
});
