/**
 * The emulated account's SQS queues: names, URLs (`<endpoint>/<account>/<name>`, so the SDK's
 * queue-URL-as-endpoint routing lands back here), ARNs, and queue attributes as SQS validates
 * and reports them (every value a string on the wire).
 */
import {
  invalidAttributeName,
  invalidAttributeValue,
  invalidParameterValue,
  queueDoesNotExist,
  queueNameExists,
} from "./errors.js";
import { DEFAULT_QUEUE_CONFIG, SqsQueue, type QueueConfig } from "./queue.js";

/** Attributes CreateQueue/SetQueueAttributes accept, with their ranges. */
const SETTABLE: Record<string, { key: keyof QueueConfig; min?: number; max?: number } | undefined> = {
  VisibilityTimeout: { key: "visibilityTimeout", min: 0, max: 43_200 },
  MessageRetentionPeriod: { key: "messageRetentionPeriod", min: 60, max: 1_209_600 },
  DelaySeconds: { key: "delaySeconds", min: 0, max: 900 },
  ReceiveMessageWaitTimeSeconds: { key: "receiveMessageWaitTimeSeconds", min: 0, max: 20 },
  MaximumMessageSize: { key: "maximumMessageSize", min: 1_024, max: 262_144 },
  RedrivePolicy: { key: "redrivePolicy" },
  Policy: { key: "policy" },
  SqsManagedSseEnabled: { key: "sqsManagedSseEnabled" },
};

/** Every attribute GetQueueAttributes knows (the model's QueueAttributeName enum). */
export const QUEUE_ATTRIBUTE_NAMES = [
  "All",
  "Policy",
  "VisibilityTimeout",
  "MaximumMessageSize",
  "MessageRetentionPeriod",
  "ApproximateNumberOfMessages",
  "ApproximateNumberOfMessagesNotVisible",
  "CreatedTimestamp",
  "LastModifiedTimestamp",
  "QueueArn",
  "ApproximateNumberOfMessagesDelayed",
  "DelaySeconds",
  "ReceiveMessageWaitTimeSeconds",
  "RedrivePolicy",
  "FifoQueue",
  "ContentBasedDeduplication",
  "KmsMasterKeyId",
  "KmsDataKeyReusePeriodSeconds",
  "DeduplicationScope",
  "FifoThroughputLimit",
  "RedriveAllowPolicy",
  "SqsManagedSseEnabled",
];

export class SqsService {
  readonly queues = new Map<string, SqsQueue>();

  constructor(
    readonly region: string,
    readonly accountId: string,
    private readonly endpoint: () => string,
  ) {}

  arnOf(name: string): string {
    return `arn:aws:sqs:${this.region}:${this.accountId}:${name}`;
  }

  urlOf(name: string): string {
    return `${this.endpoint()}/${this.accountId}/${name}`;
  }

  byArn(arn: string): SqsQueue | undefined {
    const name = arn.split(":").pop() ?? "";
    const q = this.queues.get(name);
    return q && q.arn === arn ? q : undefined;
  }

  /** The queue a QueueUrl names (any host: the path `/<account>/<name>` decides), or QueueDoesNotExist. */
  byUrl(url: string): SqsQueue {
    let path: string;
    try {
      path = new URL(url).pathname;
    } catch {
      path = url;
    }
    const m = /^\/?(\d{12})\/([A-Za-z0-9_-]{1,80})\/?$/.exec(path);
    const q = m && m[1] === this.accountId ? this.queues.get(m[2] as string) : undefined;
    if (!q) throw queueDoesNotExist();
    return q;
  }

  byName(name: string): SqsQueue {
    const q = this.queues.get(name);
    if (!q) throw queueDoesNotExist();
    return q;
  }

  /** CreateQueue: idempotent for equal attributes, QueueNameExists for different ones. */
  create(name: string, attributes: Record<string, string> = {}): SqsQueue {
    if (!/^[A-Za-z0-9_-]{1,80}$/.test(name))
      throw invalidParameterValue(
        "Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length",
      );
    const config = this.configFrom({ ...DEFAULT_QUEUE_CONFIG }, attributes);
    const existing = this.queues.get(name);
    if (existing) {
      for (const [attr, spec] of Object.entries(SETTABLE))
        if (spec && attr in attributes && existing.config[spec.key] !== config[spec.key])
          throw queueNameExists(attr);
      return existing;
    }
    const q = new SqsQueue(name, this.arnOf(name), config, (arn) => this.byArn(arn));
    this.queues.set(name, q);
    return q;
  }

  setAttributes(q: SqsQueue, attributes: Record<string, string>): void {
    q.config = this.configFrom({ ...q.config }, attributes);
    q.lastModifiedAt = Date.now();
  }

  delete(q: SqsQueue): void {
    q.close();
    this.queues.delete(q.name);
  }

  private configFrom(base: QueueConfig, attributes: Record<string, string>): QueueConfig {
    for (const [attr, raw] of Object.entries(attributes)) {
      const spec = SETTABLE[attr];
      if (!spec) {
        if (attr === "FifoQueue" && raw === "true")
          throw invalidAttributeValue(attr, "FIFO queues are not emulated; use a standard queue.");
        if (QUEUE_ATTRIBUTE_NAMES.includes(attr) && attr !== "All") continue; // read-only or KMS: accepted, ignored
        throw invalidAttributeName(attr);
      }
      if (typeof raw !== "string") throw invalidAttributeValue(attr, "must be a string.");
      if (spec.key === "sqsManagedSseEnabled") {
        if (raw !== "true" && raw !== "false") throw invalidAttributeValue(attr, "must be true or false.");
        base.sqsManagedSseEnabled = raw === "true";
      } else if (spec.key === "redrivePolicy") {
        base.redrivePolicy = raw === "" ? undefined : this.checkRedrive(raw);
      } else if (spec.key === "policy") {
        base.policy = raw === "" ? undefined : raw;
      } else {
        const n = Number(raw);
        if (!/^\d+$/.test(raw) || n < (spec.min ?? 0) || n > (spec.max ?? Infinity))
          throw invalidAttributeValue(attr, `must be an integer between ${spec.min} and ${spec.max}.`);
        (base as unknown as Record<string, number>)[spec.key] = n;
      }
    }
    return base;
  }

  private checkRedrive(raw: string): string {
    let p: { deadLetterTargetArn?: unknown; maxReceiveCount?: unknown };
    try {
      p = JSON.parse(raw) as typeof p;
    } catch {
      throw invalidAttributeValue("RedrivePolicy", "Invalid JSON.");
    }
    const max = Number(p.maxReceiveCount);
    if (typeof p.deadLetterTargetArn !== "string" || !this.byArn(p.deadLetterTargetArn))
      throw invalidAttributeValue("RedrivePolicy", "Dead letter target does not exist.");
    if (!(Number.isInteger(max) && max >= 1 && max <= 1000))
      throw invalidAttributeValue("RedrivePolicy", "maxReceiveCount must be an integer between 1 and 1000.");
    return JSON.stringify({ deadLetterTargetArn: p.deadLetterTargetArn, maxReceiveCount: max });
  }

  /** GetQueueAttributes' answer for the names asked (All = every one that has a value). */
  attributes(q: SqsQueue, names: string[]): Record<string, string> {
    for (const n of names) if (!QUEUE_ATTRIBUTE_NAMES.includes(n)) throw invalidAttributeName(n);
    const c = q.counts();
    const all: Record<string, string | undefined> = {
      QueueArn: q.arn,
      ApproximateNumberOfMessages: String(c.visible),
      ApproximateNumberOfMessagesNotVisible: String(c.inFlight),
      ApproximateNumberOfMessagesDelayed: String(c.delayed),
      CreatedTimestamp: String(Math.floor(q.createdAt / 1000)),
      LastModifiedTimestamp: String(Math.floor(q.lastModifiedAt / 1000)),
      VisibilityTimeout: String(q.config.visibilityTimeout),
      MaximumMessageSize: String(q.config.maximumMessageSize),
      MessageRetentionPeriod: String(q.config.messageRetentionPeriod),
      DelaySeconds: String(q.config.delaySeconds),
      ReceiveMessageWaitTimeSeconds: String(q.config.receiveMessageWaitTimeSeconds),
      RedrivePolicy: q.config.redrivePolicy,
      Policy: q.config.policy,
      SqsManagedSseEnabled: String(q.config.sqsManagedSseEnabled),
    };
    const want = names.includes("All") ? Object.keys(all) : names;
    const out: Record<string, string> = {};
    for (const n of want) {
      const v = all[n];
      if (v !== undefined) out[n] = v;
    }
    return out;
  }

  close(): void {
    for (const q of this.queues.values()) q.close();
  }
}
