/**
 * The emulator's EventBridge: rules (an event pattern → an SQS queue target) and the delivery of
 * ECS task state change events to them, at least once and in no guaranteed order, as the real
 * bus delivers. Faults (drop, duplicate, delay, reorder) act per event and target; what really
 * happened to every event is kept as ground truth for tests (`EventFeedSnapshot`).
 */
import type { FaultBook } from "../faults.js";
import type { SqsService } from "../sqs/service.js";
import type { TaskRecord } from "../types.js";
import { ECS_SOURCE, TASK_STATE_CHANGE, taskStateChange, type EventEnvelope } from "./envelope.js";
import { matchesPattern, parseEventPattern, type EventPattern } from "./pattern.js";

export interface EventRule {
  name: string;
  eventPattern: EventPattern;
  /** Target: the queue's name in this emulator (created if missing). */
  queueName: string;
}

/** A rule as options/HTTP give it: a pattern, or the clusters of an ECS task state change rule. */
export interface EventRuleInput {
  name?: string;
  queueName: string;
  /** Shorthand: source aws.ecs, detail-type ECS Task State Change, detail.clusterArn in these (names or ARNs). */
  clusters?: string[];
  eventPattern?: unknown;
}

export type EventFate = "delivered" | "dropped" | "undeliverable";

/** One event sent to one rule's target, and what befell it. */
export interface EventRecord {
  id: string;
  rule: string;
  taskArn: string;
  version: number;
  lastStatus: string;
  desiredStatus: string;
  /** When ECS emitted it (ms). */
  at: number;
  fate: EventFate | "pending";
  /** Copies enqueued so far (2 when duplicated). */
  copies: number;
  /** When it was enqueued (ms), once delivered. */
  deliveredAt?: number;
  duplicated: boolean;
  delayedMs?: number;
  reordered: boolean;
}

export interface TaskFeedCounts {
  published: number;
  delivered: number;
  dropped: number;
  duplicated: number;
  delayed: number;
  reordered: number;
  undeliverable: number;
}

export interface EventFeedSnapshot {
  rules: EventRule[];
  totals: TaskFeedCounts;
  /** Per task ARN. */
  tasks: Record<string, TaskFeedCounts>;
}

const zero = (): TaskFeedCounts => ({
  published: 0,
  delivered: 0,
  dropped: 0,
  duplicated: 0,
  delayed: 0,
  reordered: 0,
  undeliverable: 0,
});

interface Held {
  record: EventRecord;
  body: string;
  timer: NodeJS.Timeout;
}

export class EventBus {
  private readonly rules = new Map<string, EventRule>();
  readonly log: EventRecord[] = [];
  private readonly counts = new Map<string, TaskFeedCounts>();
  private readonly totals = zero();
  private readonly held = new Map<string, Held[]>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private nextRule = 1;

  constructor(
    private readonly sqs: SqsService,
    private readonly faults: FaultBook,
    private readonly region: string,
    private readonly account: string,
    private readonly clusterArn: (ref: string) => string,
    /** EventBridge's own delivery time, on every event (a fault's delay comes on top). */
    private readonly latencyMs = 0,
    /** Event records kept for events(); the oldest tenth goes when full (counts are kept whole). */
    private readonly maxLog = 200_000,
  ) {}

  /** Adds (or replaces, by name) a rule; creates its target queue if it does not exist. */
  putRule(input: EventRuleInput): EventRule {
    if (typeof input !== "object" || input === null) throw new Error("rule must be a JSON object");
    if (typeof input.queueName !== "string" || !/^[A-Za-z0-9_-]{1,80}$/.test(input.queueName))
      throw new Error("rule.queueName must be a queue name: 1-80 of A-Z a-z 0-9 _ -");
    if (input.name !== undefined && (typeof input.name !== "string" || !/^[\w.-]{1,64}$/.test(input.name)))
      throw new Error("rule.name must be 1-64 of A-Z a-z 0-9 . _ -");
    if (input.clusters !== undefined && input.eventPattern !== undefined)
      throw new Error("rule: give clusters or eventPattern, not both");
    let eventPattern: EventPattern;
    if (input.eventPattern !== undefined) eventPattern = parseEventPattern(input.eventPattern);
    else {
      if (
        input.clusters !== undefined &&
        (!Array.isArray(input.clusters) || input.clusters.some((c) => typeof c !== "string" || !c))
      )
        throw new Error("rule.clusters must be a list of cluster names or ARNs");
      eventPattern = { source: [ECS_SOURCE], "detail-type": [TASK_STATE_CHANGE] };
      if (input.clusters?.length)
        eventPattern.detail = { clusterArn: input.clusters.map((c) => this.clusterArn(c)) };
    }
    const rule: EventRule = {
      name: input.name ?? `rule-${this.nextRule++}`,
      eventPattern,
      queueName: input.queueName,
    };
    if (!this.sqs.queues.has(rule.queueName)) this.sqs.create(rule.queueName);
    this.rules.set(rule.name, rule);
    return rule;
  }

  deleteRule(name: string): boolean {
    return this.rules.delete(name);
  }

  /** ECS calls this on every change of a task (lastStatus or desiredStatus). */
  taskChanged(t: TaskRecord): void {
    if (this.rules.size === 0) return;
    const now = Date.now();
    const event = taskStateChange(t, this.region, this.account, now);
    for (const rule of this.rules.values())
      if (matchesPattern(rule.eventPattern, event)) this.route(rule, event, now);
  }

  private route(rule: EventRule, event: EventEnvelope, now: number): void {
    const d = event.detail;
    const record: EventRecord = {
      id: event.id,
      rule: rule.name,
      taskArn: d.taskArn,
      version: d.version,
      lastStatus: d.lastStatus,
      desiredStatus: d.desiredStatus,
      at: now,
      fate: "pending",
      copies: 0,
      duplicated: false,
      reordered: false,
    };
    this.log.push(record);
    if (this.log.length > this.maxLog) this.log.splice(0, Math.ceil(this.maxLog / 10));
    this.count(record.taskArn, "published");
    const fate = this.faults.eventFate(d.lastStatus);
    if (fate.drop) {
      record.fate = "dropped";
      this.count(record.taskArn, "dropped");
      return;
    }
    const body = JSON.stringify(event);
    if (fate.duplicate) {
      record.duplicated = true;
      this.count(record.taskArn, "duplicated");
    }
    const key = `${rule.name}\n${record.taskArn}`;
    const send = (): void => {
      this.enqueue(rule, record, body, fate.duplicate ? 2 : 1);
      this.release(key);
    };
    if (fate.holdMs !== undefined) {
      record.reordered = true;
      this.count(record.taskArn, "reordered");
      const list = this.held.get(key) ?? [];
      const h: Held = { record, body, timer: setTimeout(() => this.release(key, h), fate.holdMs) };
      h.timer.unref();
      list.push(h);
      this.held.set(key, list);
      return;
    }
    if (fate.delayMs !== undefined && fate.delayMs > 0) {
      record.delayedMs = fate.delayMs;
      this.count(record.taskArn, "delayed");
    }
    const wait = this.latencyMs + (fate.delayMs ?? 0);
    if (wait > 0) {
      const t = setTimeout(() => {
        this.timers.delete(t);
        send();
      }, wait);
      t.unref();
      this.timers.add(t);
      return;
    }
    send();
  }

  /** Delivers held events of a task (all of them, or one whose hold ran out). */
  private release(key: string, only?: Held): void {
    const list = this.held.get(key);
    if (!list?.length) return;
    const out = only ? list.filter((h) => h === only) : list.splice(0);
    if (only) list.splice(list.indexOf(only), 1);
    if (!list.length) this.held.delete(key);
    for (const h of out) {
      clearTimeout(h.timer);
      const rule = this.rules.get(h.record.rule);
      if (rule) this.enqueue(rule, h.record, h.body, h.record.duplicated ? 2 : 1);
      else this.undeliverable(h.record);
    }
  }

  private enqueue(rule: EventRule, record: EventRecord, body: string, copies: number): void {
    const q = this.sqs.queues.get(rule.queueName);
    if (!q) return this.undeliverable(record);
    for (let i = 0; i < copies; i++) q.send(body, 0, "AIDAEVENTBRIDGE");
    record.copies += copies;
    record.fate = "delivered";
    record.deliveredAt = Date.now();
    this.count(record.taskArn, "delivered", copies);
  }

  private undeliverable(record: EventRecord): void {
    record.fate = "undeliverable";
    this.count(record.taskArn, "undeliverable");
  }

  private count(taskArn: string, what: keyof TaskFeedCounts, n = 1): void {
    let c = this.counts.get(taskArn);
    if (!c) this.counts.set(taskArn, (c = zero()));
    c[what] += n;
    this.totals[what] += n;
  }

  snapshot(): EventFeedSnapshot {
    return {
      rules: structuredClone([...this.rules.values()]),
      totals: { ...this.totals },
      tasks: Object.fromEntries([...this.counts].map(([k, v]) => [k, { ...v }])),
    };
  }

  /** The event records (copies), of one task or all. */
  events(taskArn?: string): EventRecord[] {
    return structuredClone(taskArn ? this.log.filter((r) => r.taskArn === taskArn) : this.log);
  }

  close(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const list of this.held.values()) for (const h of list) clearTimeout(h.timer);
    this.held.clear();
  }
}
