/**
 * The event feed (DESIGN §6): long-polls the SQS queue an EventBridge rule fills with ECS task
 * state changes, keeps this pool's (startedBy / group), applies them to the cache by version and
 * deletes every message it has handled. At-least-once and out of order are the queue's nature:
 * the cache's version check absorbs both. Only the lease holder consumes (a standby would delete
 * messages the leader needs); a stopped feed leaves its messages to the next holder.
 */
import {
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  SQSClient,
  type Message,
} from "@aws-sdk/client-sqs";
import { isPoolTask } from "../ecs/index.js";
import type { Logger } from "../log/index.js";
import type { Metrics } from "../metrics/index.js";
import { sleep } from "../util/index.js";
import { clusterMatches, parseTaskStateChange } from "./envelope.js";
import type { EventOutcome, TaskCache } from "./task-cache.js";

export type FeedOutcome = EventOutcome | "foreign" | "malformed";
export type FeedState = "off" | "starting" | "up" | "down";

export interface FeedOptions {
  pool: string;
  cluster: string;
  queueUrl: string;
  client?: SQSClient;
  region?: string;
  /** SQS endpoint override (the emulator). */
  endpoint?: string;
  cache: TaskCache;
  log: Logger;
  metrics?: Metrics;
  /** ReceiveMessage WaitTimeSeconds (0–20; 20 = SQS's longest poll). */
  waitSeconds?: number;
  /** Called after a batch changed a task's liveness (a pass should look now). */
  onChange?: () => void;
  /** Called when the feed comes back after being down (a relist should repair what was missed). */
  onRecovered?: (downMs: number) => void;
}

export interface FeedStatus {
  state: FeedState;
  queueUrl: string;
  lastEventAtMs?: number;
  downSinceMs?: number;
  lastError?: string;
  events: Record<FeedOutcome, number>;
}

export class FeedConsumer {
  private readonly client: SQSClient;
  private ctl: AbortController | undefined;
  private loop: Promise<void> | undefined;
  private readonly s: FeedStatus;

  constructor(private readonly o: FeedOptions) {
    this.client =
      o.client ??
      new SQSClient({
        region: o.region ?? process.env.AWS_REGION ?? "us-east-1",
        ...(o.endpoint ? { endpoint: o.endpoint } : {}),
        maxAttempts: 1,
        requestHandler: { requestTimeout: ((o.waitSeconds ?? 20) + 10) * 1000, connectionTimeout: 5_000 },
      });
    this.s = {
      state: "off",
      queueUrl: o.queueUrl,
      events: { applied: 0, duplicate: 0, stale: 0, foreign: 0, malformed: 0 },
    };
  }

  status(): FeedStatus {
    return structuredClone(this.s);
  }

  get up(): boolean {
    return this.s.state === "up";
  }

  /** Starts consuming (on taking the lease). Idempotent. */
  start(): void {
    if (this.loop) return;
    this.ctl = new AbortController();
    this.setState("starting");
    const signal = this.ctl.signal;
    this.loop = this.run(signal).finally(() => (this.loop = undefined));
  }

  /** Stops consuming (lease lost, shutdown); a receive in flight is abandoned. */
  async stop(): Promise<void> {
    this.ctl?.abort();
    await this.loop;
    this.setState("off");
  }

  destroy(): void {
    if (!this.o.client) this.client.destroy();
  }

  private setState(state: FeedState): void {
    this.s.state = state;
    this.o.metrics?.feedUp.set({ pool: this.o.pool }, state === "up" ? 1 : 0);
  }

  private async run(signal: AbortSignal): Promise<void> {
    let failures = 0;
    while (!signal.aborted) {
      let messages: Message[];
      try {
        const out = await this.client.send(
          new ReceiveMessageCommand({
            QueueUrl: this.o.queueUrl,
            MaxNumberOfMessages: 10,
            WaitTimeSeconds: this.o.waitSeconds ?? 20,
          }),
          { abortSignal: signal },
        );
        messages = out.Messages ?? [];
      } catch (err) {
        if (signal.aborted) break;
        failures++;
        this.s.lastError = err instanceof Error ? err.message : String(err);
        if (this.s.state !== "down") {
          this.s.downSinceMs = Date.now();
          this.o.log.warn(
            { err: this.s.lastError },
            "event feed down: working from Redis, own writes and relists",
          );
        }
        this.setState("down");
        await sleep(Math.min(30_000, 250 * 2 ** Math.min(failures, 7)), signal).catch(() => undefined);
        continue;
      }
      if (this.s.state !== "up") {
        const downMs = this.s.downSinceMs !== undefined ? Date.now() - this.s.downSinceMs : 0;
        if (this.s.state === "down") {
          this.o.log.info({ downMs }, "event feed back up");
          this.o.onRecovered?.(downMs);
        }
        delete this.s.downSinceMs;
        this.setState("up");
      }
      failures = 0;
      if (messages.length === 0) continue;
      const changed = this.applyAll(messages);
      await this.deleteAll(messages, signal);
      if (changed) this.o.onChange?.();
    }
  }

  /** Applies one batch; true when some pool task's liveness or state changed. */
  private applyAll(messages: Message[]): boolean {
    let changed = false;
    const now = Date.now();
    for (const m of messages) {
      let outcome: FeedOutcome;
      try {
        const ev = parseTaskStateChange(m.Body ?? "");
        if (!clusterMatches(ev.clusterArn, this.o.cluster) || !isPoolTask(ev, this.o.pool)) {
          outcome = "foreign";
        } else {
          const before = this.o.cache.get(ev.task.taskId)?.task;
          outcome = this.o.cache.applyEvent(ev.task, ev.version, now);
          if (outcome === "applied") {
            this.o.metrics?.feedEventLag.observe({ pool: this.o.pool }, Math.max(0, now - ev.atMs) / 1000);
            this.s.lastEventAtMs = now;
            if (
              !before ||
              before.lastStatus !== ev.task.lastStatus ||
              before.desiredStatus !== ev.task.desiredStatus
            )
              changed = true;
          }
        }
      } catch (err) {
        outcome = "malformed";
        this.o.log.warn(
          { err: (err as Error).message, messageId: m.MessageId },
          "event feed: malformed message dropped",
        );
      }
      this.s.events[outcome]++;
      this.o.metrics?.feedEventsTotal.inc({ pool: this.o.pool, outcome });
    }
    return changed;
  }

  /** Deletes what was handled; a failed delete only means the message comes back (a duplicate). */
  private async deleteAll(messages: Message[], signal: AbortSignal): Promise<void> {
    const entries = messages.flatMap((m, i) =>
      m.ReceiptHandle ? [{ Id: String(i), ReceiptHandle: m.ReceiptHandle }] : [],
    );
    if (entries.length === 0) return;
    try {
      const out = await this.client.send(
        new DeleteMessageBatchCommand({ QueueUrl: this.o.queueUrl, Entries: entries }),
        { abortSignal: signal },
      );
      if (out.Failed?.length)
        this.o.log.debug(
          { failed: out.Failed.length },
          "event feed: some deletes failed (they will be redelivered)",
        );
    } catch (err) {
      if (!signal.aborted)
        this.o.log.debug(
          { err: (err as Error).message },
          "event feed: delete failed (messages will be redelivered)",
        );
    }
  }
}
