import type { Redis } from "ioredis";
import type { CapacityReconciler } from "../asg/index.js";
import type { EcsDriver } from "../ecs/index.js";
import { PoolKeys } from "../keys/index.js";
import { LeaderLease, LeaseLostError } from "../leader/index.js";
import type { Logger } from "../log/index.js";
import type { Metrics } from "../metrics/index.js";
import { RecordCache, type CacheObserver } from "../observe/index.js";
import {
  DEFAULT_TIMINGS,
  type EcsTask,
  type Observed,
  type Plan,
  type PlanFn,
  type PlanTimings,
} from "../plan/index.js";
import { AdaptiveSizer } from "./adaptive-sizer.js";
import { DrainSource } from "./drain-source.js";
import { PoolTiming } from "./pool-timing.js";
import { act, isStopSignal, type ActOutcome } from "./act.js";
import { capacitySummary, countActions, errMsg, publishPassMetrics, runCapacityPass } from "./pass-steps.js";
import type { DesiredReading, DesiredSource, PoolState } from "./ports.js";
import { emptyStatus, type PassResult, type StatusSnapshot } from "./status.js";
import { PassClock, type PassTriggerKind } from "./pass-clock.js";
import { PassTrigger, toDemandEntries } from "./triggers.js";
import { FastRefiller } from "./fast-refill.js";
import { PassObserver } from "./observation.js";
import { guardActions } from "./plan-guards.js";
import { RevisionSource } from "./revision-source.js";

export interface ReconcilerOptions {
  pool: string;
  /** Main connection (scripts, reads, status). Blocking and subscriber connections are duplicated from it. */
  redis: Redis;
  ecs: EcsDriver;
  store: PoolState;
  desired: DesiredSource;
  plan: PlanFn;
  /** Task definition when the desired state names none (flag). */
  taskDefinition: string;
  resyncMs?: number;
  leaseTtlMs?: number;
  timings?: Partial<PlanTimings>;
  metrics?: Metrics;
  log: Logger;
  holderId?: string;
  /** Listen to keyspace notifications of the config key (plain SET wakes a pass at once). */
  watchConfigKey?: boolean;
  /** The Auto Scaling pass run after the task pass when the desired state has an `asg` block. */
  capacity?: CapacityReconciler;
  /**
   * Observe ECS from a cache (feed, own writes, budgeted relists): a pass makes no ECS read.
   * Absent = the older way, a full ListTasks + DescribeTasks every pass (`--observe=list`).
   */
  observer?: CacheObserver;
  /**
   * The fast refill (default on): a claim that takes the pool below replenishThreshold starts its
   * replacement at once from O(1) Redis counters, without waiting for a pass (fast-refill.ts).
   */
  fastRefill?: boolean;
  /**
   * With an observer (cache mode): read every task record at least this often; between full reads
   * a pass reads only the records the events stream and its own writes name (default 5 min).
   */
  recordRereadMs?: number;
}

const MAX_ERRORS = 10;
/** Events read to seed the adaptive sizer's window on a new leader (the stream holds ~10,000). */
const EVENTS_SEED_MAX = 10_000;
/** A lease falling due wakes the loop, but never more often than this. */
const LEASE_WAKE_MIN_MS = 1_000;

/**
 * The singleton control loop (DESIGN §6): hold the lease → read desired state → observe ECS and
 * Redis → plan (pure) → act through the queues → publish status and metrics; woken by a jittered
 * resync and by the pool's events. Level-triggered: every pass starts from a fresh observation.
 */
export class Reconciler {
  readonly keys: PoolKeys;
  readonly lease: LeaderLease;
  readonly trigger: PassTrigger;
  private readonly timings: PlanTimings;
  private readonly resyncMs: number;
  private readonly clock: PassClock;
  private readonly drains: DrainSource;
  private readonly sizer: AdaptiveSizer;
  private readonly timing = new PoolTiming();
  private lastAdaptedMinWarm: number | undefined;
  private readonly stopCtl = new AbortController();
  private loop: Promise<void> | undefined;
  private passSeq = 0;
  private lastRunAtMs: number | undefined;
  private readonly runFailures = new Map<string, { count: number; lastAtMs: number }>();
  private readonly revisions: RevisionSource;
  private readonly observation: PassObserver;
  private sizerSeeded = false;
  /** The earliest lease expiry among claimed records at the last pass (Redis TIME, ms). */
  private nextLeaseDueMs: number | undefined;
  private readonly status: StatusSnapshot;
  private lastDesired: DesiredReading | undefined;
  private lastReadOk = false;
  private standbyReadOk = false;
  private readonly blocking: Redis;
  private readonly subscriber: Redis | undefined;
  /** The fast refill path, unless turned off. */
  readonly fast: FastRefiller | undefined;
  /** Cache mode: the pool's Redis records, read by change (O(changes) a pass). */
  readonly records: RecordCache | undefined;
  /** Number of passes run, for tests and status. */
  passes = 0;

  constructor(private readonly o: ReconcilerOptions) {
    this.keys = new PoolKeys(o.pool);
    this.timings = { ...DEFAULT_TIMINGS, ...o.timings };
    this.resyncMs = o.resyncMs ?? 10_000;
    this.clock = new PassClock(this.resyncMs);
    this.drains = new DrainSource(o.redis, this.keys, o.log);
    // The adaptive policy's refill delay: a replacement waits on average half a resync for its pass.
    this.sizer = new AdaptiveSizer(o.pool, this.resyncMs / 2, o.metrics);
    this.blocking = o.redis.duplicate();
    this.subscriber = o.watchConfigKey === false ? undefined : o.redis.duplicate();
    this.trigger = new PassTrigger({
      blocking: this.blocking,
      ...(this.subscriber ? { subscriber: this.subscriber } : {}),
      keys: this.keys,
      log: o.log,
      onEntries: (entries) => {
        this.sizer.onEvents(entries);
        this.fast?.onEntries(entries);
      },
    });
    this.lease = new LeaderLease({
      redis: o.redis,
      keys: this.keys,
      ttlMs: o.leaseTtlMs ?? 10_000,
      logger: o.log,
      ...(o.holderId ? { holderId: o.holderId } : {}),
      onChange: (held) => {
        this.fast?.invalidate();
        this.records?.invalidate();
        o.metrics?.leader.set({ pool: o.pool }, held ? 1 : 0);
        o.observer?.onLeadership(held);
        if (held) this.trigger.poke();
      },
    });
    this.status = emptyStatus(o.pool, this.lease.holderId);
    this.records = o.observer
      ? new RecordCache({ redis: o.redis, keys: this.keys, fullEveryMs: o.recordRereadMs ?? 300_000 })
      : undefined;
    this.revisions = new RevisionSource(o.ecs, o.observer !== undefined, o.log);
    this.observation = new PassObserver({
      redis: o.redis,
      keys: this.keys,
      store: o.store,
      ecs: o.ecs,
      drains: this.drains,
      timings: this.timings,
      ...(o.observer ? { observer: o.observer } : {}),
      ...(this.records ? { records: this.records } : {}),
    });
    const fastSignal = (): void => {
      this.lease.assertHeld();
      if (this.stopCtl.signal.aborted || this.lease.signal.aborted)
        throw new LeaseLostError("shutting down: fast refill abandoned");
    };
    this.fast =
      o.fastRefill === false
        ? undefined
        : new FastRefiller({
            pool: o.pool,
            redis: o.redis,
            keys: this.keys,
            ecs: o.ecs,
            store: o.store,
            log: o.log.child({ fast: true }),
            ...(o.metrics ? { metrics: o.metrics } : {}),
            timings: this.timings,
            assertMayAct: fastSignal,
            failures: () => ({
              recentRunFailures: [...this.runFailures].map(([r, v]) => ({ reason: r, ...v })),
              ...(this.lastRunAtMs !== undefined ? { lastRunAtMs: this.lastRunAtMs } : {}),
            }),
            onOutcome: (out) => {
              this.noteLaunches(out);
              this.records?.touch(out.launched.map((t) => t.taskId));
            },
            ...(o.observer ? { onLaunched: (t: EcsTask[]) => o.observer?.noteLaunched(t) } : {}),
          });
    o.metrics?.leader.set({ pool: o.pool }, 0);
    if (!o.observer) o.metrics?.observeMode.set({ pool: o.pool, mode: "list" }, 1);
  }

  get holderId(): string {
    return this.lease.holderId;
  }

  /** A desired state (valid, defaults or last good) could be read lately: `/readyz` needs it. */
  get desiredReadable(): boolean {
    return this.lease.held ? this.lastDesired !== undefined && this.lastReadOk : this.standbyReadOk;
  }

  snapshot(): StatusSnapshot {
    return structuredClone({ ...this.status, observe: this.observeStatus() });
  }

  /** The observer, when ECS is observed from a cache (tests and the bench read its status). */
  get observer(): CacheObserver | undefined {
    return this.o.observer;
  }

  private observeStatus(): StatusSnapshot["observe"] {
    return this.o.observer?.status() ?? { mode: "list" };
  }

  async start(): Promise<void> {
    await this.trigger.start();
    this.lease.start();
    this.loop = this.run();
  }

  /** Finishes or abandons the pass in progress, releases the lease, closes its own connections. */
  async stop(): Promise<void> {
    this.stopCtl.abort();
    await this.trigger.stop();
    await this.loop;
    await this.fast?.settled();
    await this.o.observer?.stop();
    await this.lease.stop();
    this.o.metrics?.leader.set({ pool: this.o.pool }, 0);
  }

  private async run(): Promise<void> {
    let trigger: PassTriggerKind = "start";
    while (!this.stopCtl.signal.aborted) {
      if (this.lease.held) {
        await this.pass(trigger);
      } else {
        await this.readDesiredAsStandby();
      }
      // The holder waits for what is left of its resync deadline (events never postpone it), or
      // until the earliest claim lease falls due: a claim that stopped heartbeating is expired
      // and its task stopped then, not up to a resync interval later.
      const due = this.nextLeaseDueMs;
      const leaseWait = due === undefined ? Infinity : Math.max(LEASE_WAKE_MIN_MS, due - Date.now() + 100);
      const wake = await this.trigger.wait(
        this.lease.held ? Math.min(this.clock.waitMs(), leaseWait) : Math.min(this.resyncMs, 1_000),
      );
      if (wake === "stop") break;
      trigger = wake;
    }
  }

  /**
   * A standby keeps `/readyz` honest: it checks it can read the config key, without validating
   * or recording anything (only the leader writes rejections to the history).
   */
  private async readDesiredAsStandby(): Promise<void> {
    try {
      await this.o.redis.get(this.keys.config);
      this.standbyReadOk = true;
    } catch {
      this.standbyReadOk = false;
    }
  }

  /** One reconcile pass. Never throws: the outcome is in metrics, logs and status. */
  async pass(woken: PassTriggerKind): Promise<PassResult> {
    const id = ++this.passSeq;
    const { trigger, resyncDue } = this.clock.begin(woken);
    const log = this.o.log.child({ pass: id });
    const started = performance.now();
    const startedAtMs = Date.now();
    const signal = AbortSignal.any([this.lease.signal, this.stopCtl.signal]);
    const assertMayAct = (): void => {
      this.lease.assertHeld();
      if (signal.aborted) throw new LeaseLostError("shutting down: pass abandoned");
    };
    let result: PassResult = "ok";
    let reason: string;
    let planned: Plan | undefined;
    let outcome: ActOutcome | undefined;
    let calls = { list: 0, describe: 0 };
    const errors: string[] = [];
    try {
      assertMayAct();
      const reading = await this.readDesired();
      const td = reading.desired.taskDefinition ?? this.o.taskDefinition;
      const { revision, error: revisionError } = await this.revisions.forPass(td, log);
      if (revisionError) errors.push(revisionError);
      this.status.revision = revision;

      const fastMark = this.fast?.mark();
      const seen = await this.observation.observe();
      this.nextLeaseDueMs = seen.nextLeaseDueMs;
      this.status.drain = seen.drain ?? null;
      const { view, ecs, drain, stateBornAtMs } = seen;
      if (ecs) calls = ecs.calls;
      if (seen.ecsError !== undefined) {
        errors.push(`observing ECS: ${seen.ecsError}`);
        log.warn({ err: seen.ecsError }, "observing ECS failed: nothing destructive this pass");
      }
      const now = Date.now();
      for (const ms of this.timing.newStarts(seen.records)) {
        this.sizer.recordStart(ms);
        this.o.metrics?.taskStartDuration.observe({ pool: this.o.pool }, ms / 1000);
      }
      if (reading.desired.policy === "adaptive" && !this.sizerSeeded) {
        // A new leader (or a restart) starts with the demand the events stream still holds, not
        // from nothing: the target does not drop to minWarm until a whole window has passed.
        this.sizerSeeded = true;
        const windowMs = reading.desired.adaptive.windowSeconds * 1000;
        const recent = (await this.o.redis.xrange(
          this.keys.events,
          String(Math.max(0, now - windowMs)),
          "+",
          "COUNT",
          EVENTS_SEED_MAX,
        )) as [string, string[]][];
        this.sizer.onEvents(toDemandEntries(recent));
      }
      const desired = this.sizer.apply(reading.desired, now);
      // A new adaptive target is applied at once, like an operator's change of minWarm.
      const adapted = this.sizer.last ? desired.minWarm : undefined;
      const adaptedChanged = adapted !== undefined && adapted !== this.lastAdaptedMinWarm;
      if (adaptedChanged) log.info({ target: adapted }, this.sizer.last?.explanation ?? "adaptive target");
      this.lastAdaptedMinWarm = adapted;
      this.status.adaptive = this.sizer.last
        ? { target: this.sizer.last.target, explanation: this.sizer.last.explanation }
        : null;
      const observed: Observed = {
        complete: view !== undefined || ecs !== undefined,
        ecs: view?.ecs ?? ecs?.tasks ?? [],
        records: seen.records,
        waiting: seen.waiting,
        revision: revision ?? "",
        recentRunFailures: [...this.runFailures].map(([r, v]) => ({ reason: r, ...v })),
        ...(this.lastRunAtMs !== undefined ? { lastRunAtMs: this.lastRunAtMs } : {}),
        eventTriggered: trigger === "event",
        resyncDue,
        ...(drain ? { drain } : {}),
        stateBornAtMs,
        desiredChanged: reading.changed === true || adaptedChanged,
      };
      const t0 = performance.now();
      planned = this.o.plan(desired, observed, now, this.timings);
      const planMs = performance.now() - t0;
      reason = planned.reason;
      // Launches the snapshot does not show yet (fast refills recorded after it, RunTask calls in
      // flight) are this pass's too: it launches that many fewer. Nothing awaits from here to act.
      let unseen = 0;
      if (this.fast && fastMark !== undefined) {
        const valid = reading.status !== "invalid";
        unseen = this.fast.afterSnapshot(
          fastMark,
          observed.records,
          observed.ecs,
          valid ? { desired, revision } : undefined,
        );
      }
      // Belt and braces around the plan (plan-guards.ts): nothing is acted on after a partial
      // observation, nothing is launched without a revision, only vouched ARNs are stopped.
      const { actions, arns } = guardActions(planned.actions, {
        observed,
        revision,
        ...(view && this.o.observer ? { view, observer: this.o.observer } : {}),
        unseen,
      });
      if (!observed.complete) result = "partial";
      else if (revision === undefined) result = "error";
      const runCount = actions.reduce((n, a) => n + (a.kind === "run" ? a.count : 0), 0);
      if (actions.length > 0) {
        this.fast?.beginLaunch(runCount);
        // Records this pass writes without a stream entry (launches, forgets, orphan marks) are
        // read again by the next pass, whatever becomes of this one.
        const written = actions.flatMap((a) => ("taskId" in a ? [a.taskId] : []));
        outcome = await act(
          {
            pool: this.o.pool,
            store: this.o.store,
            ecs: this.o.ecs,
            log,
            assertMayAct,
            arnOf: (id) => arns.get(id),
            onLaunched: (t) => {
              this.o.observer?.noteLaunched(t);
              for (const x of t) written.push(x.taskId);
            },
            ...(this.o.metrics ? { metrics: this.o.metrics } : {}),
          },
          actions,
        )
          .catch((err: unknown) => {
            // Abandoned mid-way: what was launched is unknown here, so no fast refill until a pass recounts.
            this.fast?.invalidate();
            this.fast?.endLaunch(runCount, []);
            throw err;
          })
          .finally(() => this.records?.touch(written));
        this.fast?.endLaunch(runCount, outcome.launched);
        this.noteLaunches(outcome);
        for (const id of outcome.stoppedIds) this.o.observer?.noteStopped(id);
        errors.push(...outcome.errors);
        if (outcome.errors.length > 0 && result === "ok") result = "error";
        log.info(
          {
            trigger,
            target: planned.target,
            counts: planned.counts,
            launched: outcome.launched.length,
            stopped: outcome.stopped,
            cordonRefused: outcome.cordonRefused,
            forgotten: outcome.forgotten,
            expired: outcome.expired,
            planMs: Math.round(planMs * 100) / 100,
          },
          planned.reason,
        );
      } else {
        log.debug({ trigger, target: planned.target, counts: planned.counts }, planned.reason);
      }
      if (this.o.metrics) publishPassMetrics(this.o.metrics, this.o.pool, planned, observed, now);
      if (observed.complete && !planned.held) {
        const refillMs = this.timing.refill(planned.counts.warm, planned.target, now);
        if (refillMs !== undefined)
          this.o.metrics?.refillDuration.observe({ pool: this.o.pool }, refillMs / 1000);
      }
      if (this.o.capacity && desired.asg && revision !== undefined) {
        // The failures as they stand after this pass's RunTask, not the pre-pass observation.
        const failures = [...this.runFailures].map(([r, v]) => ({ reason: r, ...v }));
        const cap = await runCapacityPass(this.o.capacity, {
          desired,
          planned,
          revision,
          observed,
          failures,
          assertMayAct,
        });
        if (cap) {
          this.status.asg = cap;
          this.status.capacity = capacitySummary(cap);
          errors.push(...cap.errors);
        }
      }
    } catch (err) {
      if (isStopSignal(err)) {
        result = "skipped";
        reason = `pass abandoned: ${errMsg(err)}`;
        log.warn(reason);
        // Redis refused a write for a stale epoch: a newer term began. Let the lease find out now.
        if ((err as Error).name === "FencedError") void this.lease.renew().catch(() => undefined);
      } else {
        result = "error";
        reason = `pass failed: ${errMsg(err)}`;
        errors.push(reason);
        log.error({ err: errMsg(err) }, "pass failed: nothing more done this pass");
      }
    }
    const durationMs = performance.now() - started;
    this.passes++;
    this.o.metrics?.reconcileDuration.observe({ pool: this.o.pool }, durationMs / 1000);
    this.o.metrics?.reconcileTotal.inc({ pool: this.o.pool, result });
    if (result !== "skipped") this.o.metrics?.lastPassTimestamp.set({ pool: this.o.pool }, Date.now() / 1000);
    const s = this.status;
    s.updatedAtMs = Date.now();
    s.leader = { id: this.lease.holderId, epoch: this.lease.epoch };
    if (planned) {
      s.counts = planned.counts;
      s.target = planned.target;
    }
    if (result === "ok") delete s.failingSinceMs;
    else if (result !== "skipped") s.failingSinceMs ??= startedAtMs;
    s.lastPass = {
      id,
      trigger,
      startedAtMs,
      durationMs: Math.round(durationMs * 10) / 10,
      result,
      reason,
      actions: countActions(planned),
      ecsCalls: calls,
    };
    for (const e of errors) s.lastErrors.unshift({ atMs: Date.now(), message: e });
    s.lastErrors.length = Math.min(s.lastErrors.length, MAX_ERRORS);
    s.runFailures = [...this.runFailures].map(([r, v]) => ({ reason: r, ...v }));
    s.observe = this.observeStatus();
    await this.publishStatus();
    return result;
  }

  private async readDesired(): Promise<DesiredReading> {
    let reading: DesiredReading;
    try {
      reading = await this.o.desired.read();
      this.lastReadOk = true;
    } catch (err) {
      this.lastReadOk = false;
      throw new Error("reading the desired state", { cause: err });
    }
    this.lastDesired = reading;
    const m = this.o.metrics;
    m?.configValid.set({ pool: this.o.pool }, reading.status === "invalid" ? 0 : 1);
    this.status.desired = reading.desired;
    this.status.config = {
      status: reading.status,
      valid: reading.status !== "invalid",
      lastRejection: reading.rejection ?? this.status.config.lastRejection,
    };
    return reading;
  }

  /** The ARN new tasks of `td` run (cached; the desired-state check shares it with the passes). */
  resolveRevision(td: string): Promise<string> {
    return this.revisions.resolve(td);
  }

  /**
   * Passes in a row whose RunTask calls failed, by reason, feed the planner's backoff; a clean
   * launch resets them. One failed pass counts once per reason however many tasks it asked for,
   * so a single failed batch of ten does not push the next try out by 2^9 backoff steps.
   */
  private noteLaunches(o: ActOutcome): void {
    if (o.ranAt !== undefined) this.lastRunAtMs = o.ranAt;
    if (o.runFailures.length > 0) {
      const now = Date.now();
      for (const reason of new Set(o.runFailures.map((f) => f.reason))) {
        const prev = this.runFailures.get(reason);
        this.runFailures.set(reason, { count: (prev?.count ?? 0) + 1, lastAtMs: now });
      }
    } else if (o.launched.length > 0) {
      this.runFailures.clear();
    }
  }

  private async publishStatus(): Promise<void> {
    // Only the holder writes status: a deposed leader's last word would mislead on-call.
    if (!this.lease.held) return;
    try {
      await this.o.redis.set(this.keys.status, JSON.stringify(this.status));
    } catch (err) {
      this.o.log.debug({ err: errMsg(err) }, "publishing status failed");
    }
  }
}
