/**
 * Observation assembly of one pass (DESIGN §6 step 3): the pool's Redis side (records, waiters,
 * the state's birth, the next lease due, on-call's drain) and then its ECS side, from the task
 * cache (no ECS call) or, in list mode, a full ListTasks + DescribeTasks. The pass orchestration
 * (reconciler.ts) turns this into `Observed` for the planner; nothing here decides anything.
 */
import type { Redis } from "ioredis";
import { observeEcs, type EcsDriver, type EcsObservation } from "../ecs/index.js";
import type { PoolKeys } from "../keys/index.js";
import type { CacheObserver, CacheView, RecordCache } from "../observe/index.js";
import type { PlanTimings, TaskRecord } from "../plan/index.js";
import type { DrainInForce, DrainSource } from "./drain-source.js";
import { errMsg } from "./pass-steps.js";
import type { PoolState } from "./ports.js";
import { readStateBirth } from "./state-birth.js";

export interface PassObserverDeps {
  redis: Redis;
  keys: PoolKeys;
  store: PoolState;
  ecs: Pick<EcsDriver, "listTasks" | "describeTasks">;
  drains: DrainSource;
  timings: PlanTimings;
  /** Cache mode: the task cache's observer and the record cache; absent = list mode. */
  observer?: CacheObserver;
  records?: RecordCache;
}

export interface PoolObservation {
  records: TaskRecord[];
  waiting: number;
  stateBornAtMs: number;
  /** The earliest claim lease still to come (Redis TIME), for the loop's wake-up. */
  nextLeaseDueMs: number | undefined;
  drain: DrainInForce | undefined;
  /** Cache mode: this pass's ECS picture from the cache. */
  view?: CacheView;
  /** List mode: what ListTasks + DescribeTasks returned (absent when it failed: `ecsError`). */
  ecs?: EcsObservation;
  ecsError?: string;
}

export class PassObserver {
  private lastBornAtMs: number | undefined;

  constructor(private readonly d: PassObserverDeps) {}

  async observe(): Promise<PoolObservation> {
    const d = this.d;
    // A pool state reborn in Redis (lost and begun again) holds none of the cached records.
    const stateBornAtMs = await readStateBirth(d.redis, d.keys);
    if (this.lastBornAtMs !== undefined && stateBornAtMs !== this.lastBornAtMs) d.records?.invalidate();
    this.lastBornAtMs = stateBornAtMs;
    const fromCache = await d.records?.read();
    const redisSide = fromCache ?? (await d.store.observe());
    const { records, waiting } = redisSide;
    // Only leases still to come: one already past is this pass's to expire, and if it cannot
    // (paused, a Redis error) the resync retries it; waking every second for it would turn
    // every such second into a full ECS observation.
    let nextLeaseDueMs = fromCache?.nextLeaseDueMs;
    if (!fromCache) {
      const observedAt = Date.now();
      for (const r of records)
        if (r.state === "claimed" && r.leaseExpiresAtMs !== undefined && r.leaseExpiresAtMs > observedAt)
          nextLeaseDueMs = Math.min(nextLeaseDueMs ?? Infinity, r.leaseExpiresAtMs);
    }
    const drain = await d.drains.read();
    const out: PoolObservation = { records, waiting, stateBornAtMs, nextLeaseDueMs, drain };
    if (d.observer) {
      // From the cache: no ECS read. What it cannot vouch for is held back after planning.
      out.view = d.observer.view(records, Date.now(), d.timings.visibilityGraceMs);
      return out;
    }
    try {
      // The records' ARNs are described too, which sees through ListTasks lag.
      out.ecs = await observeEcs(d.ecs, {
        knownArns: records.flatMap((r) => (r.taskArn && r.state !== undefined ? [r.taskArn] : [])),
      });
    } catch (err) {
      out.ecsError = errMsg(err);
    }
    return out;
  }
}
