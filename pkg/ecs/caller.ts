/**
 * The one rate-limited, retrying way to send an AWS call (ECS and Auto Scaling drivers alike): a
 * p-queue per API family in front of a token bucket sized like the service's, full-jitter backoff
 * on throttling and transient faults, the bucket emptied when the server throttles anyway, and
 * every attempt counted in warmpool_aws_requests_total{api,outcome}.
 */
import PQueue from "p-queue";
import { backoffMs, classifyError } from "./errors.js";
import { TokenBucket, type CallBudget } from "./token-bucket.js";
import type { BucketLimit } from "./types.js";

export interface RetryPolicy {
  /** Attempts in all for a throttled or transient (5xx, network) call. */
  maxAttempts: number;
  baseMs: number;
  maxMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 8, baseMs: 100, maxMs: 5_000 };
import type { Metrics } from "../metrics/index.js";
import { sleep } from "../util/index.js";

/** The metrics the caller writes; pkg/metrics' factory provides them. */
export type CallerMetrics = Pick<Metrics, "awsRequestsTotal" | "awsRequestDuration" | "awsQueueDepth">;

export interface CallerOptions<F extends string> {
  pool: string;
  limits: Record<F, BucketLimit>;
  /**
   * Budgets shared beyond this process (the account's, in Redis), spent after the local bucket:
   * the local one paces this pool, the shared one holds every pool and replica to one limit.
   */
  shared?: Partial<Record<F, CallBudget>>;
  /** Calls in flight at once per family. */
  concurrency?: number;
  retry?: Partial<RetryPolicy>;
  metrics?: CallerMetrics;
  signal?: AbortSignal;
}

export class Caller<A extends string, F extends string> {
  private readonly queues = new Map<F, PQueue>();
  private readonly buckets = new Map<F, TokenBucket>();
  private readonly waiting = new Map<A, number>();
  private readonly retry: RetryPolicy;

  constructor(
    private readonly familyOf: (api: A) => F,
    private readonly opts: CallerOptions<F>,
  ) {
    for (const [f, l] of Object.entries(opts.limits) as [F, BucketLimit][]) {
      this.buckets.set(f, new TokenBucket(l.ratePerSec, l.burst));
      this.queues.set(f, new PQueue({ concurrency: opts.concurrency ?? 4 }));
    }
    this.retry = { ...DEFAULT_RETRY, ...opts.retry };
  }

  /** One logical call: queue → token → attempt, retrying throttling and transient faults. */
  async call<T>(api: A, send: () => Promise<T>): Promise<T> {
    const family = this.familyOf(api);
    const queue = this.queues.get(family) as PQueue;
    const bucket = this.buckets.get(family) as TokenBucket;
    const signal = this.opts.signal;
    for (let attempt = 0; ; attempt++) {
      signal?.throwIfAborted();
      this.depth(api, +1);
      let res: { ok: true; value: T } | { ok: false; err: unknown };
      try {
        res = (await queue.add(
          async () => {
            await bucket.take(signal);
            await this.opts.shared?.[family]?.take(this.opts.pool, 1, signal);
            this.depth(api, -1);
            const end = this.opts.metrics?.awsRequestDuration.startTimer({ pool: this.opts.pool, api });
            try {
              return { ok: true as const, value: await send() };
            } catch (err) {
              return { ok: false as const, err };
            } finally {
              end?.();
            }
          },
          signal ? { signal } : {},
        )) as typeof res;
      } catch (err) {
        this.depth(api, -1);
        throw err;
      }
      if (res.ok) {
        this.count(api, "ok");
        return res.value;
      }
      const cls = classifyError(res.err);
      this.count(api, cls === "throttled" ? "throttled" : "error");
      if (cls === "throttled") bucket.penalize();
      if (cls === "fatal" || attempt + 1 >= this.retry.maxAttempts) {
        throw res.err instanceof Error ? res.err : new Error(`${api} failed: ${String(res.err)}`);
      }
      await sleep(backoffMs(attempt, this.retry.baseMs, this.retry.maxMs), signal);
    }
  }

  /** Calls waiting in the queues (not yet sent), all APIs. */
  get queued(): number {
    let n = 0;
    for (const q of this.queues.values()) n += q.size;
    return n;
  }

  async idle(): Promise<void> {
    await Promise.all([...this.queues.values()].map((q) => q.onIdle()));
  }

  clear(): void {
    for (const q of this.queues.values()) q.clear();
  }

  /** Counts one attempt's outcome ("failure": answered, but the call did not do what it asked). */
  count(api: A, outcome: "ok" | "throttled" | "error" | "failure"): void {
    this.opts.metrics?.awsRequestsTotal.inc({ pool: this.opts.pool, api, outcome });
  }

  private depth(api: A, delta: number): void {
    const n = Math.max(0, (this.waiting.get(api) ?? 0) + delta);
    this.waiting.set(api, n);
    this.opts.metrics?.awsQueueDepth.set({ pool: this.opts.pool, api }, n);
  }
}
