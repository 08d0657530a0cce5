import { RunTaskCommand } from "@aws-sdk/client-ecs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEmulator, type Emulator, type EventEnvelope } from "../../hack/emulator/index.js";
import { waitFor } from "../harness/index.js";
import { aws, json, SERVICE_ERROR_EXIT } from "./cli.js";
import { ecsClient, registerSleeper } from "./clients.js";

interface Received {
  Messages?: {
    MessageId: string;
    ReceiptHandle: string;
    MD5OfBody: string;
    Body: string;
    Attributes?: Record<string, string>;
  }[];
}

// The CLI speaks SQS's JSON protocol (botocore's model says so); each start costs seconds, so
// the cases run side by side on one emulator and touch different queues.
describe("emulator: aws sqs works against it", () => {
  let emu: Emulator;
  beforeAll(async () => {
    emu = await startEmulator({
      timeScale: 0.01,
      eventRules: [{ name: "cli-feed", queueName: "cli-events" }],
    });
  });
  afterAll(async () => {
    await emu?.stop();
  });

  it.concurrent(
    "create-queue, send-message, receive-message (long poll), delete-message, get-queue-attributes",
    async () => {
      const { QueueUrl } = json<{ QueueUrl: string }>(
        await aws(emu, ["sqs", "create-queue", "--queue-name", "cli-q"]),
      );
      expect(QueueUrl).toBe(`${emu.endpoint}/${emu.accountId}/cli-q`);
      const sent = json<{ MessageId: string; MD5OfMessageBody: string }>(
        await aws(emu, ["sqs", "send-message", "--queue-url", QueueUrl, "--message-body", "from the cli"]),
      );
      const got = json<Received>(
        await aws(emu, [
          "sqs",
          "receive-message",
          "--queue-url",
          QueueUrl,
          "--wait-time-seconds",
          "5",
          "--max-number-of-messages",
          "10",
          "--attribute-names",
          "All",
        ]),
      );
      expect(got.Messages).toHaveLength(1);
      expect(got.Messages![0]).toMatchObject({
        MessageId: sent.MessageId,
        Body: "from the cli",
        MD5OfBody: sent.MD5OfMessageBody,
      });
      expect(got.Messages![0]!.Attributes?.ApproximateReceiveCount).toBe("1");
      const del = await aws(emu, [
        "sqs",
        "delete-message",
        "--queue-url",
        QueueUrl,
        "--receipt-handle",
        got.Messages![0]!.ReceiptHandle,
      ]);
      expect(del.code).toBe(0);
      const attrs = json<{ Attributes: Record<string, string> }>(
        await aws(emu, ["sqs", "get-queue-attributes", "--queue-url", QueueUrl, "--attribute-names", "All"]),
      );
      expect(attrs.Attributes).toMatchObject({
        ApproximateNumberOfMessages: "0",
        ApproximateNumberOfMessagesNotVisible: "0",
      });
      expect(emu.control.sqsCalls().DeleteMessage?.ok).toBe(1);
    },
    180_000,
  );

  it.concurrent(
    "receive-message reads task state change events",
    async () => {
      const ecs = ecsClient(emu);
      const td = await registerSleeper(ecs, "cli-feed");
      const arn = (await ecs.send(new RunTaskCommand({ taskDefinition: td }))).tasks![0]!.taskArn!;
      await waitFor("RUNNING", () => emu.control.task(arn)?.lastStatus === "RUNNING");
      const url = json<{ QueueUrl: string }>(
        await aws(emu, ["sqs", "get-queue-url", "--queue-name", "cli-events"]),
      ).QueueUrl;
      const got = json<Received>(
        await aws(emu, ["sqs", "receive-message", "--queue-url", url, "--max-number-of-messages", "10"]),
      );
      const events = got.Messages!.map((m) => JSON.parse(m.Body) as EventEnvelope);
      expect(events.map((e) => e.detail.lastStatus)).toEqual(["PROVISIONING", "PENDING", "RUNNING"]);
      expect(
        events.every((e) => e["detail-type"] === "ECS Task State Change" && e.detail.taskArn === arn),
      ).toBe(true);
    },
    180_000,
  );

  it.concurrent(
    "reports SQS's Query-compatible error code and a non-zero exit status",
    async () => {
      const r = await aws(emu, ["sqs", "get-queue-url", "--queue-name", "no-such-queue"]);
      expect(SERVICE_ERROR_EXIT).toContain(r.code);
      expect(r.stderr).toMatch(/AWS\.SimpleQueueService\.NonExistentQueue/);
    },
    120_000,
  );
});
