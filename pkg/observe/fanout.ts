/**
 * One event feed for many pools (pkg/fleet): a single SQS consumer per process routes each event
 * by `startedBy` to the pool served here (feed.ts `routes`). Each pool's CacheObserver holds a
 * `PoolFeed` handle: starting it (on taking the pool's lease) adds the pool's cache to the routes,
 * stopping it removes it; the consumer runs while any pool is routed.
 */
import type { Logger } from "../log/index.js";
import type { Metrics } from "../metrics/index.js";
import { FeedConsumer, type FeedOptions, type FeedStatus, type FeedTarget } from "./feed.js";

/** What a pool's observer needs of a feed (FeedConsumer for one pool, PoolFeed for many). */
export type FeedHandle = Pick<FeedConsumer, "start" | "stop" | "status">;

export type FanoutOptions = Omit<FeedOptions, "pool" | "cache" | "routes" | "onChange" | "onRecovered"> & {
  log: Logger;
  metrics?: Metrics;
};

export class FeedFanout {
  private readonly routes = new Map<string, FeedTarget>();
  private readonly consumer: FeedConsumer;

  constructor(private readonly o: FanoutOptions) {
    // Events of no served pool are labelled with this name (the consumer's own, not a pool's).
    this.consumer = new FeedConsumer({ ...o, pool: "_fleet", routes: this.routes });
  }

  /** The pools whose events are applied here now. */
  get served(): string[] {
    return [...this.routes.keys()].sort();
  }

  status(): FeedStatus {
    return this.consumer.status();
  }

  /** A handle for one pool's observer. */
  pool(name: string, target: FeedTarget): FeedHandle {
    return {
      start: () => {
        this.routes.set(name, target);
        this.consumer.start();
        this.o.metrics?.feedUp.set({ pool: name }, this.consumer.up ? 1 : 0);
      },
      stop: async () => {
        this.routes.delete(name);
        this.o.metrics?.feedUp.set({ pool: name }, 0);
        if (this.routes.size > 0) return;
        await this.consumer.stop();
        // A pool started while the consumer was stopping: keep consuming for it.
        if (this.routes.size > 0) this.consumer.start();
      },
      status: () => this.consumer.status(),
    };
  }

  async stop(): Promise<void> {
    this.routes.clear();
    await this.consumer.stop();
  }

  destroy(): void {
    this.consumer.destroy();
  }
}
