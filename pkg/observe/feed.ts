/**
 * The event feed (DESIGN §6): long-polls the SQS queue an EventBridge rule fills with ECS task
 * state changes, keeps this pool's (startedBy / group), applies them to the cache by version and
 * deletes every message it has handled. At-least-once and out of order are the queue's nature:
 * the cache's version check absorbs both. Only the lease holder consumes (a standby would delete
 * messages the leader needs); a stopped feed leaves its messages to the next holder.
 *
 * Many pools (`FeedFanout`): one consumer per process routes each event by `detail.startedBy` to
 * the cache of the pool it serves. Several replicas share one queue, so an event of a pool another
 * live replica serves (by the fleet's assignment) is not deleted: its visibility is cut to a few
 * seconds so another replica receives it (deleted only after `maxHandoffs` receives, a backstop);
 * an event of a pool no replica serves is deleted at once, the relist a pool's new leader makes
 * on taking its lease repairing anything missed. The cost: an event of another replica's pool is
 * received ~R times on average before its owner gets it (SQS calls, not ECS budget), and its
 * delivery is delayed by a few visibility windows.
 */
import {
  DeleteMessageBatchCommand,
  ChangeMessageVisibilityBatchCommand,
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

export type FeedOutcome = EventOutcome | "foreign" | "malformed" | "elsewhere";

/** Where the events of one served pool go. */
export interface FeedTarget {
  cache: TaskCache;
  /** Called after a batch changed one of this pool's tasks' liveness. */
  onChange?: () => void;
  /** Called when the feed comes back after being down. */
  onRecovered?: (downMs: number) => void;
}
export type FeedState = "off" | "starting" | "up" | "down";

export interface FeedOptions {
  /** The pool (single mode), or the label of the shared consumer's own metrics (fan-out). */
  pool: string;
  cluster: string;
  queueUrl: string;
  client?: SQSClient;
  region?: string;
  /** SQS endpoint override (the emulator). */
  endpoint?: string;
  /** The pool's cache (single mode; ignored with `routes`). */
  cache?: TaskCache;
  /** Fan-out: the pools served here by name; events of any other pool are left for other replicas. */
  routes?: ReadonlyMap<string, FeedTarget>;
  /** Visibility (s) an event of a pool served elsewhere is given back with (default 2). */
  elsewhereVisibilitySeconds?: number;
  /**
   * Fan-out: whether another live replica serves `pool` (pkg/fleet's assignment). Its events are
   * handed back; the events of a pool no replica serves are deleted at once. Absent: every pool
   * not served here counts as served elsewhere.
   */
  servedElsewhere?: (pool: string) => boolean;
  /** Receives after which an event of a pool served elsewhere is deleted all the same (default 50). */
  maxHandoffs?: number;
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
  private readonly routes: ReadonlyMap<string, FeedTarget>;

  constructor(private readonly o: FeedOptions) {
    if (!o.routes && !o.cache) throw new Error("feed: needs a cache (one pool) or routes (many)");
    this.routes =
      o.routes ??
      new Map([
        [o.pool, { cache: o.cache!, ...(o.onChange ? { onChange: o.onChange } : {}) } satisfies FeedTarget],
      ]);
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
      events: { applied: 0, duplicate: 0, stale: 0, foreign: 0, malformed: 0, elsewhere: 0 },
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
    // Fan-out: every pool routed here is fed (or not) by this one consumer.
    for (const pool of this.o.routes ? this.o.routes.keys() : [this.o.pool])
      this.o.metrics?.feedUp.set({ pool }, state === "up" ? 1 : 0);
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
            ...(this.o.routes ? { MessageSystemAttributeNames: ["ApproximateReceiveCount" as const] } : {}),
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
          if (this.o.routes) for (const t of this.o.routes.values()) t.onRecovered?.(downMs);
        }
        delete this.s.downSinceMs;
        this.setState("up");
      }
      failures = 0;
      if (messages.length === 0) continue;
      const { changed, keep } = this.applyAll(messages);
      await this.deleteAll(
        messages.filter((m) => !keep.has(m)),
        signal,
      );
      await this.handBack([...keep], signal);
      for (const t of changed) t.onChange?.();
    }
  }

  /** Routes one event: the served pool's target, or why it is not handled here. */
  private resolve(
    ev: ReturnType<typeof parseTaskStateChange>,
  ): [string, FeedTarget] | "foreign" | "elsewhere" {
    if (!clusterMatches(ev.clusterArn, this.o.cluster)) return "foreign";
    const pool = this.o.routes ? ev.startedBy : this.o.pool;
    if (pool === undefined) return "foreign";
    const t = this.routes.get(pool);
    if (t) return isPoolTask(ev, pool) ? [pool, t] : "foreign";
    if (!this.o.routes || !ev.startedBy) return "foreign";
    return (this.o.servedElsewhere?.(ev.startedBy) ?? true) ? "elsewhere" : "foreign";
  }

  /**
   * Applies one batch: the targets whose tasks' liveness or state changed, and the messages to
   * leave in the queue for the replica serving their pool.
   */
  private applyAll(messages: Message[]): { changed: Set<FeedTarget>; keep: Set<Message> } {
    const changed = new Set<FeedTarget>();
    const keep = new Set<Message>();
    const now = Date.now();
    const maxHandoffs = this.o.maxHandoffs ?? 50;
    for (const m of messages) {
      let outcome: FeedOutcome;
      let label = this.o.pool;
      try {
        const ev = parseTaskStateChange(m.Body ?? "");
        const r = this.resolve(ev);
        if (r === "elsewhere") {
          outcome = "elsewhere";
          if (Number(m.Attributes?.ApproximateReceiveCount ?? 1) < maxHandoffs) keep.add(m);
        } else if (r === "foreign") {
          outcome = "foreign";
        } else {
          const [pool, target] = r;
          label = pool;
          const before = target.cache.get(ev.task.taskId)?.task;
          outcome = target.cache.applyEvent(ev.task, ev.version, now);
          if (outcome === "applied") {
            this.o.metrics?.feedEventLag.observe({ pool }, Math.max(0, now - ev.atMs) / 1000);
            this.s.lastEventAtMs = now;
            if (
              !before ||
              before.lastStatus !== ev.task.lastStatus ||
              before.desiredStatus !== ev.task.desiredStatus
            )
              changed.add(target);
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
      this.o.metrics?.feedEventsTotal.inc({ pool: label, outcome });
    }
    return { changed, keep };
  }

  /** Gives events of pools served elsewhere back to the queue soon, for the replica serving them. */
  private async handBack(messages: Message[], signal: AbortSignal): Promise<void> {
    const entries = messages.flatMap((m, i) =>
      m.ReceiptHandle
        ? [
            {
              Id: String(i),
              ReceiptHandle: m.ReceiptHandle,
              VisibilityTimeout: this.o.elsewhereVisibilitySeconds ?? 2,
            },
          ]
        : [],
    );
    if (entries.length === 0) return;
    try {
      await this.client.send(
        new ChangeMessageVisibilityBatchCommand({ QueueUrl: this.o.queueUrl, Entries: entries }),
        { abortSignal: signal },
      );
    } catch (err) {
      // The queue's own visibility timeout hands them back later.
      if (!signal.aborted)
        this.o.log.debug({ err: (err as Error).message }, "event feed: visibility change failed");
    }
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
