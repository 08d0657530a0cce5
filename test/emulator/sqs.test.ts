import {
  ChangeMessageVisibilityCommand,
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  PurgeQueueCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEmulator, type Emulator } from "../../hack/emulator/index.js";
import { sqsClient } from "./clients.js";

const md5 = (s: string): string => createHash("md5").update(s, "utf8").digest("hex");

/** The SDK's error as parsed from the wire: modeled name, Query-compatible code, HTTP status. */
async function failure(
  p: Promise<unknown>,
): Promise<{ name: string; code?: string; status?: number; message: string }> {
  try {
    await p;
  } catch (e) {
    const x = e as { name: string; Code?: string; message: string; $metadata?: { httpStatusCode?: number } };
    return { name: x.name, code: x.Code, status: x.$metadata?.httpStatusCode, message: x.message };
  }
  throw new Error("expected the call to fail");
}

describe("emulator: SQS (AWS JSON 1.0) through @aws-sdk/client-sqs", () => {
  let emu: Emulator;
  let sqs: SQSClient;
  beforeAll(async () => {
    emu = await startEmulator({ timeScale: 0.01 });
    sqs = sqsClient(emu);
  });
  afterAll(async () => {
    await emu?.stop();
  });

  const queue = async (name: string, Attributes?: Record<string, string>): Promise<string> =>
    (await sqs.send(new CreateQueueCommand({ QueueName: name, Attributes }))).QueueUrl as string;

  it("creates a queue idempotently, finds it by name, reports its attributes", async () => {
    const url = await queue("attrs", { VisibilityTimeout: "45" });
    expect(url).toBe(`${emu.endpoint}/${emu.accountId}/attrs`);
    expect(await queue("attrs", { VisibilityTimeout: "45" })).toBe(url);
    const clash = await failure(
      sqs.send(new CreateQueueCommand({ QueueName: "attrs", Attributes: { VisibilityTimeout: "5" } })),
    );
    expect(clash).toMatchObject({ name: "QueueNameExists", code: "QueueAlreadyExists", status: 400 });
    expect((await sqs.send(new GetQueueUrlCommand({ QueueName: "attrs" }))).QueueUrl).toBe(url);
    const a = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ["All"] }));
    expect(a.Attributes).toMatchObject({
      QueueArn: `arn:aws:sqs:${emu.region}:${emu.accountId}:attrs`,
      VisibilityTimeout: "45",
      ApproximateNumberOfMessages: "0",
      MessageRetentionPeriod: "345600",
    });
    const bad = await failure(
      sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ["Nope" as never] })),
    );
    expect(bad).toMatchObject({ name: "InvalidAttributeName", code: "InvalidAttributeName" });
  });

  it("answers QueueDoesNotExist with the Query-compatible code", async () => {
    const e = await failure(sqs.send(new GetQueueUrlCommand({ QueueName: "missing" })));
    expect(e).toMatchObject({
      name: "QueueDoesNotExist",
      code: "AWS.SimpleQueueService.NonExistentQueue",
      status: 400,
    });
    const r = await failure(
      sqs.send(new ReceiveMessageCommand({ QueueUrl: `${emu.endpoint}/${emu.accountId}/missing` })),
    );
    expect(r.name).toBe("QueueDoesNotExist");
  });

  it("sends and receives with a correct MD5, receipt handles, receive counts and visibility", async () => {
    const url = await queue("basic");
    const body = JSON.stringify({ hello: "wörld ✓" });
    const sent = await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: body }));
    expect(sent.MD5OfMessageBody).toBe(md5(body)); // the SDK also checks it, or throws
    const first = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: url,
        VisibilityTimeout: 1,
        MessageSystemAttributeNames: ["All"],
      }),
    );
    expect(first.Messages).toHaveLength(1);
    const m = first.Messages![0]!;
    expect(m).toMatchObject({ MessageId: sent.MessageId, Body: body, MD5OfBody: md5(body) });
    expect(m.Attributes?.ApproximateReceiveCount).toBe("1");
    // Hidden while in flight …
    expect((await sqs.send(new ReceiveMessageCommand({ QueueUrl: url }))).Messages).toBeUndefined();
    // … back after the timeout, received a second time with a new handle.
    const again = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: url,
        WaitTimeSeconds: 5,
        MessageSystemAttributeNames: ["ApproximateReceiveCount"],
      }),
    );
    const m2 = again.Messages![0]!;
    expect(m2.MessageId).toBe(m.MessageId);
    expect(m2.Attributes?.ApproximateReceiveCount).toBe("2");
    expect(m2.ReceiptHandle).not.toBe(m.ReceiptHandle);
    await sqs.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: m2.ReceiptHandle }));
    expect(emu.control.queues().find((q) => q.name === "basic")).toMatchObject({ visible: 0, inFlight: 0 });
    const bad = await failure(
      sqs.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: "not-a-handle" })),
    );
    expect(bad).toMatchObject({
      name: "ReceiptHandleIsInvalid",
      code: "ReceiptHandleIsInvalid",
      status: 404,
    });
  });

  it("a long poll returns as soon as a message arrives, not at the end of its wait", async () => {
    const url = await queue("longpoll");
    const t0 = Date.now();
    const poll = sqs.send(
      new ReceiveMessageCommand({ QueueUrl: url, WaitTimeSeconds: 20, MaxNumberOfMessages: 10 }),
    );
    setTimeout(() => void sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: "late" })), 200);
    const out = await poll;
    expect(out.Messages?.map((m) => m.Body)).toEqual(["late"]);
    expect(Date.now() - t0).toBeLessThan(15_000); // far below the 20 s wait: woken by the send
    const empty = Date.now();
    expect(
      (await sqs.send(new ReceiveMessageCommand({ QueueUrl: url, WaitTimeSeconds: 1 }))).Messages,
    ).toBeUndefined();
    expect(Date.now() - empty).toBeGreaterThanOrEqual(900); // nothing came: the full wait
  });

  it("receives at most MaxNumberOfMessages and rejects out-of-range parameters", async () => {
    const url = await queue("batch");
    for (let i = 0; i < 12; i++)
      await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: `m${i}` }));
    const got = await sqs.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10 }));
    expect(got.Messages).toHaveLength(10);
    const tooMany = await failure(
      sqs.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 11 })),
    );
    expect(tooMany).toMatchObject({ code: "InvalidParameterValue", status: 400 });
    expect(tooMany.message).toMatch(/MaxNumberOfMessages/);
    const longWait = await failure(
      sqs.send(new ReceiveMessageCommand({ QueueUrl: url, WaitTimeSeconds: 21 })),
    );
    expect(longWait.message).toMatch(/WaitTimeSeconds/);
    const del = await sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: url,
        Entries: [...got.Messages!.map((m, i) => ({ Id: `e${i}`, ReceiptHandle: m.ReceiptHandle }))]
          .slice(0, 9)
          .concat([{ Id: "bad", ReceiptHandle: "x" }]),
      }),
    );
    expect(del.Successful).toHaveLength(9);
    expect(del.Failed).toEqual([
      expect.objectContaining({ Id: "bad", SenderFault: true, Code: "ReceiptHandleIsInvalid" }),
    ]);
    const dup = await failure(
      sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: url,
          Entries: [
            { Id: "a", ReceiptHandle: "x" },
            { Id: "a", ReceiptHandle: "y" },
          ],
        }),
      ),
    );
    expect(dup).toMatchObject({
      name: "BatchEntryIdsNotDistinct",
      code: "AWS.SimpleQueueService.BatchEntryIdsNotDistinct",
    });
    const empty = await failure(sqs.send(new DeleteMessageBatchCommand({ QueueUrl: url, Entries: [] })));
    expect(empty.name).toBe("EmptyBatchRequest");
    await sqs.send(new PurgeQueueCommand({ QueueUrl: url }));
    expect(emu.control.queues().find((q) => q.name === "batch")).toMatchObject({ visible: 0, inFlight: 0 });
    const twice = await failure(sqs.send(new PurgeQueueCommand({ QueueUrl: url })));
    expect(twice).toMatchObject({ name: "PurgeQueueInProgress", status: 403 });
  });

  it("ChangeMessageVisibility to 0 makes a message visible at once; a settled one is not in flight", async () => {
    const url = await queue("visibility");
    await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: "v" }));
    const a = (await sqs.send(new ReceiveMessageCommand({ QueueUrl: url, VisibilityTimeout: 600 })))
      .Messages![0]!;
    await sqs.send(
      new ChangeMessageVisibilityCommand({
        QueueUrl: url,
        ReceiptHandle: a.ReceiptHandle,
        VisibilityTimeout: 0,
      }),
    );
    const notInFlight = await failure(
      sqs.send(
        new ChangeMessageVisibilityCommand({
          QueueUrl: url,
          ReceiptHandle: a.ReceiptHandle,
          VisibilityTimeout: 5,
        }),
      ),
    );
    expect(notInFlight).toMatchObject({
      name: "MessageNotInflight",
      code: "AWS.SimpleQueueService.MessageNotInflight",
    });
    const b = (await sqs.send(new ReceiveMessageCommand({ QueueUrl: url }))).Messages![0]!;
    expect(b.MessageId).toBe(a.MessageId);
  });

  it("moves a message received maxReceiveCount times to the dead-letter queue", async () => {
    const dlqUrl = await queue("dlq");
    const dlqArn = `arn:aws:sqs:${emu.region}:${emu.accountId}:dlq`;
    const url = await queue("redriven", {
      RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: 2 }),
    });
    await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: "poison" }));
    for (let i = 0; i < 2; i++) {
      const r = await sqs.send(new ReceiveMessageCommand({ QueueUrl: url, VisibilityTimeout: 0 }));
      expect(r.Messages).toHaveLength(1);
    }
    expect((await sqs.send(new ReceiveMessageCommand({ QueueUrl: url }))).Messages).toBeUndefined();
    const dead = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: dlqUrl, MessageSystemAttributeNames: ["All"] }),
    );
    expect(dead.Messages?.[0]).toMatchObject({ Body: "poison" });
    expect(dead.Messages?.[0]?.Attributes?.DeadLetterQueueSourceArn).toBe(
      `arn:aws:sqs:${emu.region}:${emu.accountId}:redriven`,
    );
  });

  it("counts SQS calls apart from ECS calls", async () => {
    emu.control.resetCalls();
    const url = await queue("counted");
    await sqs.send(new ReceiveMessageCommand({ QueueUrl: url }));
    await failure(sqs.send(new GetQueueUrlCommand({ QueueName: "missing" })));
    expect(emu.control.sqsCalls()).toEqual({
      CreateQueue: { ok: 1, throttled: 0, error: 0 },
      ReceiveMessage: { ok: 1, throttled: 0, error: 0 },
      GetQueueUrl: { ok: 0, throttled: 0, error: 1 },
    });
    expect(emu.control.calls()).toEqual({});
  });
});
