/**
 * One standard SQS queue: messages with visibility timeouts, receive counts, delays, retention,
 * a redrive policy to a dead-letter queue, and long-poll waiters woken as soon as a message is
 * visible. Times are real milliseconds (SQS speaks seconds on the wire); nothing here is scaled.
 */
import { createHash, randomBytes, randomUUID } from "node:crypto";

export interface SqsMessage {
  messageId: string;
  body: string;
  md5: string;
  sentAt: number;
  /** Hidden until then (delay or visibility timeout). */
  visibleAt: number;
  receiveCount: number;
  firstReceiveAt?: number;
  /** The nonce of the latest receive; a receipt handle names it. */
  receipt?: string;
  /** Set when the message sits in flight (received, not deleted, timeout not expired). */
  inFlight: boolean;
  senderId: string;
  /** The queue ARN this message was moved from by a redrive, if any. */
  deadLetterSourceArn?: string;
}

export interface QueueConfig {
  visibilityTimeout: number;
  messageRetentionPeriod: number;
  delaySeconds: number;
  receiveMessageWaitTimeSeconds: number;
  maximumMessageSize: number;
  /** JSON `{deadLetterTargetArn, maxReceiveCount}` as SQS stores it. */
  redrivePolicy?: string;
  policy?: string;
  sqsManagedSseEnabled: boolean;
}

export const DEFAULT_QUEUE_CONFIG: QueueConfig = {
  visibilityTimeout: 30,
  messageRetentionPeriod: 345_600,
  delaySeconds: 0,
  receiveMessageWaitTimeSeconds: 0,
  maximumMessageSize: 262_144,
  sqsManagedSseEnabled: true,
};

export const md5Hex = (s: string): string => createHash("md5").update(s, "utf8").digest("hex");

/** What a receipt handle encodes: the queue, the message, and which receive produced it. */
export interface Receipt {
  queue: string;
  messageId: string;
  nonce: string;
}

export function encodeReceipt(r: Receipt): string {
  return Buffer.from(`${r.queue}\n${r.messageId}\n${r.nonce}`, "utf8").toString("base64");
}

export function decodeReceipt(handle: string): Receipt | undefined {
  if (!/^[A-Za-z0-9+/=]{8,1024}$/.test(handle)) return undefined;
  const parts = Buffer.from(handle, "base64").toString("utf8").split("\n");
  if (parts.length !== 3 || parts.some((p) => !p)) return undefined;
  return { queue: parts[0] as string, messageId: parts[1] as string, nonce: parts[2] as string };
}

interface Waiter {
  wake(): void;
}

export interface QueueCounters {
  sent: number;
  received: number;
  deleted: number;
  expired: number;
  movedToDeadLetter: number;
  purged: number;
}

export class SqsQueue {
  /** By id, in the order they were enqueued (a Map keeps insertion order; delete is O(1)). */
  readonly messages = new Map<string, SqsMessage>();
  private lastSweep = 0;
  readonly createdAt = Date.now();
  lastModifiedAt = this.createdAt;
  readonly counters: QueueCounters = {
    sent: 0,
    received: 0,
    deleted: 0,
    expired: 0,
    movedToDeadLetter: 0,
    purged: 0,
  };
  private readonly waiters = new Set<Waiter>();
  /** When the last PurgeQueue ran (SQS allows one a minute). */
  lastPurgeAt?: number;
  private closed = false;

  constructor(
    readonly name: string,
    readonly arn: string,
    public config: QueueConfig,
    /** Finds the dead-letter queue a redrive policy names. */
    private readonly byArn: (arn: string) => SqsQueue | undefined,
  ) {}

  send(body: string, delaySeconds = this.config.delaySeconds, senderId = "AIDAEMULATOR"): SqsMessage {
    const now = Date.now();
    const m: SqsMessage = {
      messageId: randomUUID(),
      body,
      md5: md5Hex(body),
      sentAt: now,
      visibleAt: now + delaySeconds * 1000,
      receiveCount: 0,
      inFlight: false,
      senderId,
    };
    this.messages.set(m.messageId, m);
    this.counters.sent += 1;
    if (delaySeconds > 0) setTimeout(() => this.notify(), delaySeconds * 1000).unref();
    else this.notify();
    return m;
  }

  /** Moves an existing message here (a redrive), keeping its id, body and sent time. */
  private adopt(m: SqsMessage, fromArn: string): void {
    this.messages.set(m.messageId, {
      ...m,
      visibleAt: Date.now(),
      inFlight: false,
      receipt: undefined,
      receiveCount: 0,
      firstReceiveAt: undefined,
      deadLetterSourceArn: fromArn,
    });
    this.counters.sent += 1;
    this.notify();
  }

  /** Wakes every long poll so it looks again. */
  notify(): void {
    for (const w of [...this.waiters]) w.wake();
  }

  private redrive(): { target: SqsQueue; max: number } | undefined {
    if (!this.config.redrivePolicy) return undefined;
    try {
      const p = JSON.parse(this.config.redrivePolicy) as {
        deadLetterTargetArn?: string;
        maxReceiveCount?: unknown;
      };
      const target = p.deadLetterTargetArn ? this.byArn(p.deadLetterTargetArn) : undefined;
      const max = Number(p.maxReceiveCount);
      return target && max >= 1 ? { target, max } : undefined;
    } catch {
      return undefined;
    }
  }

  /** Drops messages past retention (at most once a second: it walks the whole queue). */
  private sweep(now: number, force = false): void {
    if (!force && now - this.lastSweep < 1_000) return;
    this.lastSweep = now;
    const keepMs = this.config.messageRetentionPeriod * 1000;
    for (const [id, m] of this.messages)
      if (now - m.sentAt >= keepMs) {
        this.messages.delete(id);
        this.counters.expired += 1;
      }
  }

  /** Takes up to `max` visible messages now, hiding each for `visibilityTimeout` seconds. */
  take(max: number, visibilityTimeout: number): SqsMessage[] {
    const now = Date.now();
    if (this.closed) return [];
    this.sweep(now);
    const out: SqsMessage[] = [];
    const rd = this.redrive();
    for (const [id, m] of this.messages) {
      if (out.length >= max) break;
      if (m.visibleAt > now) continue;
      if (rd && m.receiveCount >= rd.max) {
        this.messages.delete(id);
        this.counters.movedToDeadLetter += 1;
        rd.target.adopt(m, this.arn);
        continue;
      }
      m.receiveCount += 1;
      m.firstReceiveAt ??= now;
      m.receipt = randomBytes(12).toString("hex");
      m.visibleAt = now + visibilityTimeout * 1000;
      m.inFlight = true;
      out.push(m);
    }
    this.counters.received += out.length;
    if (visibilityTimeout === 0 && out.length) this.notify();
    return out;
  }

  /**
   * A long poll: messages as soon as one is visible, or none after `waitMs`. `gone()` tells
   * when the caller hung up, so nothing is taken (and hidden) for a reader that left.
   */
  async receive(
    max: number,
    visibilityTimeout: number,
    waitMs: number,
    gone: () => boolean,
  ): Promise<SqsMessage[]> {
    const deadline = Date.now() + waitMs;
    for (;;) {
      if (gone() || this.closed) return [];
      const got = this.take(max, visibilityTimeout);
      const now = Date.now();
      if (got.length || now >= deadline) return got;
      const next = this.nextVisibleAt(now);
      const until = Math.min(deadline, next ?? Infinity);
      await new Promise<void>((resolve) => {
        const w: Waiter = {
          wake: () => {
            clearTimeout(t);
            this.waiters.delete(w);
            resolve();
          },
        };
        const t = setTimeout(w.wake, Math.max(1, until - now));
        this.waiters.add(w);
      });
    }
  }

  private nextVisibleAt(now: number): number | undefined {
    let next: number | undefined;
    for (const m of this.messages.values())
      if (m.visibleAt > now && (next === undefined || m.visibleAt < next)) next = m.visibleAt;
    return next;
  }

  find(messageId: string): SqsMessage | undefined {
    const m = this.messages.get(messageId);
    if (m?.inFlight && m.visibleAt <= Date.now()) m.inFlight = false;
    return m;
  }

  /** Deletes the message a handle names; true if it was still here. */
  delete(messageId: string): boolean {
    if (!this.messages.delete(messageId)) return false;
    this.counters.deleted += 1;
    return true;
  }

  purge(): void {
    this.counters.purged += this.messages.size;
    this.messages.clear();
  }

  /** Ends the long polls at once (emulator shutdown). */
  close(): void {
    this.closed = true;
    this.notify();
  }

  counts(now = Date.now()): { visible: number; inFlight: number; delayed: number } {
    this.sweep(now, true);
    let visible = 0;
    let inFlight = 0;
    let delayed = 0;
    for (const m of this.messages.values()) {
      if (m.inFlight && m.visibleAt > now) inFlight++;
      else if (m.visibleAt > now) delayed++;
      else visible++;
    }
    return { visible, inFlight, delayed };
  }
}
