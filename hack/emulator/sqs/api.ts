/**
 * SQS operations on the AWS JSON 1.0 protocol (`X-Amz-Target: AmazonSQS.<Op>`), the protocol
 * current SDKs and the AWS CLI use for SQS. Shapes and limits follow the service model
 * (sqs/2012-11-05); standard queues only. See docs/emulator.md for what is and is not emulated.
 */
import {
  batchEntryIdsNotDistinct,
  emptyBatchRequest,
  invalidBatchEntryId,
  invalidParameterValue,
  messageNotInflight,
  missingParameter,
  purgeQueueInProgress,
  receiptHandleIsInvalid,
  tooManyEntries,
  SqsError,
} from "./errors.js";
import { decodeReceipt, encodeReceipt, type SqsMessage, type SqsQueue } from "./queue.js";
import type { SqsService } from "./service.js";

export const SQS_TARGET_PREFIX = "AmazonSQS.";

type Input = Record<string, unknown>;
export interface SqsCallContext {
  /** True once the caller hung up (a long poll stops waiting and takes nothing). */
  gone(): boolean;
}
export type SqsHandler = (svc: SqsService, input: Input, call: SqsCallContext) => unknown;

function str(input: Input, name: string, required: true): string;
function str(input: Input, name: string, required?: false): string | undefined;
function str(input: Input, name: string, required = false): string | undefined {
  const v = input[name];
  if (v === undefined || v === null) {
    if (required) throw missingParameter(name);
    return undefined;
  }
  if (typeof v !== "string")
    throw invalidParameterValue(`Value for parameter ${name} is invalid. Reason: must be a string.`);
  return v;
}

function int(input: Input, name: string, min: number, max: number, reason: string): number | undefined {
  const v = input[name];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max)
    throw invalidParameterValue(`Value ${String(v)} for parameter ${name} is invalid. Reason: ${reason}`);
  return v;
}

function stringList(input: Input, name: string): string[] {
  const v = input[name];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || v.some((s) => typeof s !== "string"))
    throw invalidParameterValue(`Value for parameter ${name} is invalid. Reason: must be a list of strings.`);
  return v as string[];
}

function stringMap(input: Input, name: string): Record<string, string> {
  const v = input[name];
  if (v === undefined || v === null) return {};
  if (typeof v !== "object" || Array.isArray(v) || Object.values(v).some((s) => typeof s !== "string"))
    throw invalidParameterValue(`Value for parameter ${name} is invalid. Reason: must be a map of strings.`);
  return v as Record<string, string>;
}

const queueOf = (svc: SqsService, input: Input): SqsQueue => svc.byUrl(str(input, "QueueUrl", true));

/** A receipt handle for this queue, or ReceiptHandleIsInvalid. */
function receiptFor(q: SqsQueue, handle: string): { messageId: string; nonce: string } {
  const r = decodeReceipt(handle);
  if (!r || r.queue !== q.name) throw receiptHandleIsInvalid(handle);
  return r;
}

const SYSTEM_ATTRIBUTES = [
  "SenderId",
  "SentTimestamp",
  "ApproximateReceiveCount",
  "ApproximateFirstReceiveTimestamp",
  "DeadLetterQueueSourceArn",
];

function wireMessage(q: SqsQueue, m: SqsMessage, attrNames: string[]): Record<string, unknown> {
  const all = attrNames.includes("All");
  const values: Record<string, string | undefined> = {
    SenderId: m.senderId,
    SentTimestamp: String(m.sentAt),
    ApproximateReceiveCount: String(m.receiveCount),
    ApproximateFirstReceiveTimestamp: m.firstReceiveAt !== undefined ? String(m.firstReceiveAt) : undefined,
    DeadLetterQueueSourceArn: m.deadLetterSourceArn,
  };
  const attributes: Record<string, string> = {};
  for (const n of all ? SYSTEM_ATTRIBUTES : attrNames) {
    const v = values[n];
    if (v !== undefined) attributes[n] = v;
  }
  return {
    MessageId: m.messageId,
    ReceiptHandle: encodeReceipt({ queue: q.name, messageId: m.messageId, nonce: m.receipt ?? "" }),
    MD5OfBody: m.md5,
    Body: m.body,
    Attributes: Object.keys(attributes).length ? attributes : undefined,
  };
}

/** Batch entries: 1..10, distinct ids of [A-Za-z0-9_-]{1,80}. */
function batchEntries(input: Input): Input[] {
  const v = input.Entries;
  if (!Array.isArray(v) || v.length === 0) throw emptyBatchRequest();
  if (v.length > 10) throw tooManyEntries(v.length);
  const seen = new Set<string>();
  for (const e of v as Input[]) {
    const id = e?.Id;
    if (typeof id !== "string" || !/^[A-Za-z0-9_-]{1,80}$/.test(id)) throw invalidBatchEntryId();
    if (seen.has(id)) throw batchEntryIdsNotDistinct(id);
    seen.add(id);
  }
  return v as Input[];
}

function batchResult(entries: Input[], each: (e: Input) => void): Record<string, unknown> {
  const Successful: { Id: string }[] = [];
  const Failed: { Id: string; SenderFault: boolean; Code: string; Message: string }[] = [];
  for (const e of entries) {
    try {
      each(e);
      Successful.push({ Id: e.Id as string });
    } catch (err) {
      if (!(err instanceof SqsError)) throw err;
      Failed.push({
        Id: e.Id as string,
        SenderFault: err.status < 500,
        Code: err.queryCode,
        Message: err.message,
      });
    }
  }
  return { Successful, Failed };
}

function deleteOne(q: SqsQueue, handle: string): void {
  const r = receiptFor(q, handle);
  // SQS deletes with any handle of the message's receives; an already deleted message is not an error.
  q.delete(r.messageId);
}

function changeVisibility(q: SqsQueue, handle: string, seconds: number): void {
  const r = receiptFor(q, handle);
  const m = q.find(r.messageId);
  if (!m) throw receiptHandleIsInvalid(handle);
  if (!m.inFlight || m.visibleAt <= Date.now()) throw messageNotInflight();
  m.visibleAt = Date.now() + seconds * 1000;
  if (seconds === 0) {
    m.inFlight = false;
    q.notify();
  }
}

const VISIBILITY_REASON = "Must be >= 0 and <= 43200, if provided.";

export const SQS_HANDLERS: Record<string, SqsHandler> = {
  CreateQueue: (svc, input) => {
    const name = str(input, "QueueName", true);
    const q = svc.create(name, stringMap(input, "Attributes"));
    return { QueueUrl: svc.urlOf(q.name) };
  },
  GetQueueUrl: (svc, input) => {
    const q = svc.byName(str(input, "QueueName", true));
    return { QueueUrl: svc.urlOf(q.name) };
  },
  ListQueues: (svc, input) => {
    const prefix = str(input, "QueueNamePrefix") ?? "";
    const urls = [...svc.queues.keys()].filter((n) => n.startsWith(prefix)).map((n) => svc.urlOf(n));
    return { QueueUrls: urls };
  },
  DeleteQueue: (svc, input) => {
    svc.delete(queueOf(svc, input));
    return {};
  },
  GetQueueAttributes: (svc, input) => {
    const q = queueOf(svc, input);
    const names = stringList(input, "AttributeNames");
    return { Attributes: svc.attributes(q, names) };
  },
  SetQueueAttributes: (svc, input) => {
    svc.setAttributes(queueOf(svc, input), stringMap(input, "Attributes"));
    return {};
  },
  SendMessage: (svc, input) => {
    const q = queueOf(svc, input);
    const body = str(input, "MessageBody", true);
    if (body.length === 0) throw missingParameter("MessageBody");
    if (Buffer.byteLength(body) > q.config.maximumMessageSize)
      throw invalidParameterValue(
        `One or more parameters are invalid. Reason: Message must be shorter than ${q.config.maximumMessageSize} bytes.`,
      );
    const delay = int(input, "DelaySeconds", 0, 900, "Must be >= 0 and <= 900, if provided.");
    const m = q.send(body, delay ?? q.config.delaySeconds);
    return { MessageId: m.messageId, MD5OfMessageBody: m.md5 };
  },
  ReceiveMessage: async (svc, input, call) => {
    const q = queueOf(svc, input);
    const max = int(input, "MaxNumberOfMessages", 1, 10, "Must be between 1 and 10, if provided.") ?? 1;
    const vt = int(input, "VisibilityTimeout", 0, 43_200, VISIBILITY_REASON) ?? q.config.visibilityTimeout;
    const wait =
      int(input, "WaitTimeSeconds", 0, 20, "Must be >= 0 and <= 20, if provided.") ??
      q.config.receiveMessageWaitTimeSeconds;
    const names = [
      ...stringList(input, "AttributeNames"),
      ...stringList(input, "MessageSystemAttributeNames"),
    ];
    const got = await q.receive(max, vt, wait * 1000, call.gone);
    return got.length ? { Messages: got.map((m) => wireMessage(q, m, names)) } : {};
  },
  DeleteMessage: (svc, input) => {
    const q = queueOf(svc, input);
    deleteOne(q, str(input, "ReceiptHandle", true));
    return {};
  },
  DeleteMessageBatch: (svc, input) => {
    const q = queueOf(svc, input);
    return batchResult(batchEntries(input), (e) => {
      if (typeof e.ReceiptHandle !== "string") throw missingParameter("ReceiptHandle");
      deleteOne(q, e.ReceiptHandle);
    });
  },
  ChangeMessageVisibility: (svc, input) => {
    const q = queueOf(svc, input);
    const handle = str(input, "ReceiptHandle", true);
    const vt = int(input, "VisibilityTimeout", 0, 43_200, VISIBILITY_REASON);
    if (vt === undefined) throw missingParameter("VisibilityTimeout");
    changeVisibility(q, handle, vt);
    return {};
  },
  ChangeMessageVisibilityBatch: (svc, input) => {
    const q = queueOf(svc, input);
    return batchResult(batchEntries(input), (e) => {
      if (typeof e.ReceiptHandle !== "string") throw missingParameter("ReceiptHandle");
      const vt = int(e, "VisibilityTimeout", 0, 43_200, VISIBILITY_REASON);
      if (vt === undefined) throw missingParameter("VisibilityTimeout");
      changeVisibility(q, e.ReceiptHandle, vt);
    });
  },
  PurgeQueue: (svc, input) => {
    const q = queueOf(svc, input);
    const now = Date.now();
    if (q.lastPurgeAt !== undefined && now - q.lastPurgeAt < 60_000) throw purgeQueueInProgress(q.name);
    q.purge();
    q.lastPurgeAt = now;
    return {};
  },
};
