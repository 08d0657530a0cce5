/**
 * Passes plan from the cache, not from ECS (DESIGN §6 step 3). The CacheObserver gives a pass its
 * ECS picture with no call at all, keeps the cache honest with a relist at a slow interval (and on
 * taking the lease), describes only the tasks in doubt, and holds back the destructive actions the
 * cache cannot vouch for. Every read it makes goes through the driver's read bucket: the budget.
 */
import { observeEcs, type TaskReader } from "../ecs/index.js";
import type { Logger } from "../log/index.js";
import type { Metrics } from "../metrics/index.js";
import type { Action, EcsTask, TaskRecord } from "../plan/index.js";
import type { FeedStatus } from "./feed.js";
import type { FeedHandle } from "./fanout.js";
import { nextRelistDelayMs } from "./relist-schedule.js";
import { TaskCache } from "./task-cache.js";

export interface CacheObserverOptions {
  pool: string;
  reader: TaskReader;
  cache?: TaskCache;
  /** The event feed; absent = no feed configured (Redis, own writes and relists only). */
  feed?: FeedHandle;
  /**
   * Full ListTasks + DescribeTasks once per this interval on average (and on taking the lease),
   * each pool at its own phase (relist-schedule.ts).
   */
  relistMs: number;
  /** A launched task not registered by then, or an orphan candidate, is described once. */
  inDoubtGraceMs: number;
  log: Logger;
  metrics?: Metrics;
  /** Wakes a pass (a relist or targeted describe changed what the cache knows). */
  poke: () => void;
}

/** What one pass sees of ECS, and which of it the cache cannot vouch for yet. */
export interface CacheView {
  ecs: EcsTask[];
  /** Records the cache has no word on (before the first relist): assumed live, never acted on. */
  placeholders: Set<string>;
}

export interface RelistStatus {
  atMs: number;
  durationMs: number;
  result: "ok" | "error";
  calls: number;
  drift: number;
  tasks: number;
  error?: string;
}

export interface ObserveStatus {
  mode: "cache";
  /** Whether an event feed is configured; "no feed configured" is said here. */
  feed: FeedStatus | null;
  cacheTasks: number;
  relistIntervalMs: number;
  relisting: boolean;
  lastRelist: RelistStatus | null;
  nextRelistAtMs: number | null;
  targeted: { calls: number; drift: number };
}

const live = (t: EcsTask): boolean => t.desiredStatus === "RUNNING" && t.lastStatus !== "STOPPED";

export class CacheObserver {
  readonly cache: TaskCache;
  private relistWanted = true;
  private seeded = false;
  private relisting: Promise<void> | undefined;
  private describing: Promise<void> | undefined;
  private lastRelist: RelistStatus | null = null;
  private nextRelistAtMs: number | undefined;
  private held = false;
  private recordArns: string[] = [];
  private readonly asked = new Map<string, number>();
  private readonly targeted = { calls: 0, drift: 0 };
  /** Wakes a pass when the next relist falls due (passes may be far apart). */
  private relistTimer: NodeJS.Timeout | undefined;

  constructor(private readonly o: CacheObserverOptions) {
    this.cache = o.cache ?? new TaskCache();
    o.metrics?.observeMode.set({ pool: o.pool, mode: o.feed ? "feed" : "relist-only" }, 1);
    o.metrics?.feedUp.set({ pool: o.pool }, 0);
  }

  /**
   * Taking the lease starts from nothing (a standby's cache is stale) but this process's own
   * unconfirmed launches (TaskCache.restart): relist now, consume the feed.
   */
  onLeadership(held: boolean): void {
    this.held = held;
    if (held) {
      this.cache.restart();
      this.seeded = false;
      this.relistWanted = true;
      this.asked.clear();
      this.o.feed?.start();
    } else {
      clearTimeout(this.relistTimer);
      void this.o.feed?.stop();
    }
  }

  /** Asks for a relist at the next pass (the feed came back after missing events). */
  requestRelist(): void {
    this.relistWanted = true;
    this.startRelist();
  }

  async stop(): Promise<void> {
    this.held = false;
    clearTimeout(this.relistTimer);
    await this.o.feed?.stop();
    await Promise.allSettled([this.relisting, this.describing]);
  }

  /**
   * This pass's ECS picture, with no ECS call. Records the cache has no entry for are placeholders
   * (assumed live so counts hold; never stopped, never forgotten); tasks in doubt are described in
   * the background, and a relist is started when one is due.
   */
  view(records: TaskRecord[], nowMs: number, visibilityGraceMs: number): CacheView {
    const ecs = this.cache.tasks();
    const placeholders = new Set<string>();
    const doubt: string[] = [];
    const recorded = new Set<string>();
    this.recordArns = [];
    for (const r of records) {
      recorded.add(r.taskId);
      if (!r.taskArn) continue;
      this.recordArns.push(r.taskArn);
      const e = this.cache.get(r.taskId);
      if (!e) {
        if (this.cache.isForeign(r.taskArn)) continue;
        placeholders.add(r.taskId);
        ecs.push({
          taskId: r.taskId,
          taskArn: r.taskArn,
          lastStatus: r.state === "starting" ? "PROVISIONING" : "RUNNING",
          desiredStatus: "RUNNING",
          taskDefinitionArn: r.revision ?? "",
          createdAtMs: r.createdAtMs,
        });
        doubt.push(r.taskArn);
        continue;
      }
      if (
        r.state === "starting" &&
        live(e.task) &&
        nowMs - r.createdAtMs > this.o.inDoubtGraceMs &&
        !(e.describedAtMs !== undefined && e.describedAtMs >= e.updatedAtMs)
      )
        doubt.push(r.taskArn);
    }
    this.maybeRelist(nowMs);
    for (const t of this.cache.tasks()) {
      if (recorded.has(t.taskId) || !live(t) || nowMs - t.createdAtMs <= visibilityGraceMs) continue;
      if (!this.orphanConfirmed(t.taskId)) doubt.push(t.taskArn);
    }
    if (doubt.length > 0) this.describeInDoubt(doubt, nowMs);
    return { ecs, placeholders };
  }

  /**
   * Holds back what the cache cannot vouch for: no stop of a task it has no entry for, no orphan
   * stop unless a describe confirmed the task since its last change; a cordon of a placeholder
   * goes ahead (never a claimed task) but without an ARN, so nothing is stopped until ECS confirms.
   */
  guard(actions: Action[], view: CacheView): Action[] {
    return actions.flatMap((a): Action[] => {
      if (a.kind === "stop") {
        if (view.placeholders.has(a.taskId) || !this.cache.get(a.taskId)) return [];
        if (a.reason === "orphan" && !this.orphanConfirmed(a.taskId)) return [];
        return [a];
      }
      if (a.kind === "cordon-stop" && view.placeholders.has(a.taskId)) {
        return [{ kind: "cordon-stop", taskId: a.taskId, reason: a.reason }];
      }
      if (a.kind === "forget" && view.placeholders.has(a.taskId)) return [];
      return [a];
    });
  }

  noteLaunched(tasks: EcsTask[]): void {
    this.cache.noteLaunched(tasks, Date.now());
  }

  noteStopped(taskId: string): void {
    this.cache.noteStopped(taskId, Date.now());
  }

  status(nowMs = Date.now()): ObserveStatus {
    return {
      mode: "cache",
      feed: this.o.feed?.status() ?? null,
      cacheTasks: this.cache.size,
      relistIntervalMs: this.o.relistMs,
      relisting: this.relisting !== undefined,
      lastRelist: this.lastRelist,
      nextRelistAtMs: this.nextRelistAtMs === undefined ? null : Math.max(nowMs, this.nextRelistAtMs),
      targeted: { ...this.targeted },
    };
  }

  private orphanConfirmed(taskId: string): boolean {
    const e = this.cache.get(taskId);
    return e?.describedAtMs !== undefined && e.describedAtMs >= e.updatedAtMs;
  }

  private maybeRelist(nowMs: number): void {
    if (!this.held || this.relisting) return;
    const due = this.nextRelistAtMs === undefined || nowMs >= this.nextRelistAtMs;
    if (!due && !this.relistWanted) return;
    this.startRelist();
  }

  private startRelist(): void {
    if (!this.held || this.relisting) return;
    this.relistWanted = false;
    this.relisting = this.relist().finally(() => (this.relisting = undefined));
  }

  /** One full relist, paced by the driver's read bucket (the budget), applied when complete. */
  private async relist(): Promise<void> {
    const startedAtMs = Date.now();
    const seeding = !this.seeded;
    const known = new Set([...this.recordArns, ...this.cache.liveArns()]);
    const pool = { pool: this.o.pool };
    try {
      const obs = await observeEcs(this.o.reader, { knownArns: known });
      if (!this.held) return;
      const now = Date.now();
      let drift = this.cache.applyDescribed(obs, startedAtMs, now);
      const seen = new Set([
        ...obs.tasks.map((t) => t.taskId),
        ...[...obs.missing, ...obs.foreign].map(idOf),
      ]);
      drift += this.cache.settleRelist(seen, startedAtMs, now);
      // The first relist after taking the lease fills an empty cache: that is not drift.
      if (seeding) drift = 0;
      this.seeded = true;
      const calls = obs.calls.list + obs.calls.describe;
      this.lastRelist = {
        atMs: startedAtMs,
        durationMs: now - startedAtMs,
        result: "ok",
        calls,
        drift,
        tasks: obs.tasks.length,
      };
      this.o.metrics?.relistsTotal.inc({ ...pool, kind: "full", result: "ok" });
      this.o.metrics?.cacheDriftTotal.inc({ ...pool, kind: "full" }, drift);
      this.o.metrics?.relistDrift.set(pool, drift);
      if (drift > 0)
        this.o.log.warn({ drift, calls }, "relist: the cache had tasks wrong (events lost or late?)");
      else this.o.log.debug({ calls, tasks: obs.tasks.length }, "relist: cache confirmed");
      // A pass plans from what the relist found only when it changed something (or filled the
      // cache): an idle pool's relists cost no pass.
      if (seeding || drift > 0) this.o.poke();
    } catch (err) {
      const msg = err instanceof Error ? err.message : String(err);
      this.lastRelist = {
        atMs: startedAtMs,
        durationMs: Date.now() - startedAtMs,
        result: "error",
        calls: 0,
        drift: 0,
        tasks: 0,
        error: msg,
      };
      this.o.metrics?.relistsTotal.inc({ ...pool, kind: "full", result: "error" });
      this.o.log.warn({ err: msg }, "relist failed: the cache stands until the next one");
    } finally {
      // Each pool at its own phase, so pools that took their leases together do not relist together.
      const delay = nextRelistDelayMs(this.o.relistMs, this.o.pool, seeding);
      this.nextRelistAtMs = Date.now() + delay;
      clearTimeout(this.relistTimer);
      // The next relist starts on its own when due (passes may be far apart).
      if (this.held) this.relistTimer = setTimeout(() => this.startRelist(), delay).unref();
    }
  }

  /** One DescribeTasks (≤ 100 ARNs) for tasks in doubt, each asked at most once per grace. */
  private describeInDoubt(arns: string[], nowMs: number): void {
    // A relist under way (or due first) describes every record anyway.
    if (this.describing || this.relisting || !this.seeded || !this.held) return;
    const batch = [...new Set(arns)]
      .filter((a) => nowMs - (this.asked.get(a) ?? -Infinity) >= this.o.inDoubtGraceMs)
      .slice(0, 100);
    if (batch.length === 0) return;
    for (const a of batch) this.asked.set(a, nowMs);
    if (this.asked.size > 50_000) this.asked.clear();
    const pool = { pool: this.o.pool };
    this.describing = (async () => {
      const since = Date.now();
      try {
        const answer = await this.o.reader.describeTasks(batch);
        if (!this.held) return;
        const drift = this.cache.applyDescribed(answer, since, Date.now());
        this.targeted.calls++;
        this.targeted.drift += drift;
        this.o.metrics?.relistsTotal.inc({ ...pool, kind: "targeted", result: "ok" });
        this.o.metrics?.cacheDriftTotal.inc({ ...pool, kind: "targeted" }, drift);
        this.o.poke();
      } catch (err) {
        this.o.metrics?.relistsTotal.inc({ ...pool, kind: "targeted", result: "error" });
        this.o.log.debug(
          { err: (err as Error).message },
          "targeted describe failed: asked again after the grace",
        );
      }
    })().finally(() => (this.describing = undefined));
  }
}

const idOf = (arn: string): string => arn.slice(arn.lastIndexOf("/") + 1);
