/**
 * The fast refill (docs/reconciler.md, "The fast refill"): a claim that takes the pool below its
 * replenishThreshold starts its replacement at once, without waiting for a pass and without
 * reading every record. Woken by claim and miss entries of the events stream, it reads three O(1)
 * counters (ZCARD warm, SCARD tasks, LLEN waiting) in one round trip, adds what this process knows
 * is starting, and asks the planner's own rules (plan.fastRefill) how many to start. It only
 * launches, through the pass's act path (recorded and fenced like any launch); it never stops,
 * cordons or forgets anything: the full pass stays the authority for all of that.
 *
 * Counting never under-counts idle tasks, so it never launches beyond the target:
 * - `starting` holds the ids the last full pass saw `starting`, plus every launch since (the pass's
 *   and its own); register, claim and cordon entries of the stream take ids out. An id missed or
 *   late only counts a task twice (warm and starting), which delays a launch to the next pass.
 * - `inFlight` counts tasks asked of RunTask and not yet added to `starting`, from either path.
 * - A pass whose snapshot predates a fast launch subtracts it from its own launches
 *   (`afterSnapshot`), so the two never launch for the same gap.
 */
import type { Redis } from "ioredis";
import type { DesiredState } from "../config/index.js";
import type { EcsDriver } from "../ecs/index.js";
import type { PoolKeys } from "../keys/index.js";
import type { Logger } from "../log/index.js";
import type { Metrics } from "../metrics/index.js";
import {
  fastRefill,
  type Action,
  type EcsTask,
  type Observed,
  type PlanTimings,
  type TaskRecord,
} from "../plan/index.js";
import { act, isStopSignal, type ActOutcome } from "./act.js";
import type { PoolState } from "./ports.js";

/** What the last full pass of this lease term decided in force: the fast path plans from it. */
export interface FastContext {
  desired: DesiredState;
  /** Task definition ARN new tasks run; undefined = not resolved, no fast launch. */
  revision: string | undefined;
}

export interface FastRefillDeps {
  pool: string;
  redis: Redis;
  keys: PoolKeys;
  ecs: Pick<EcsDriver, "runTask" | "stopTask">;
  store: PoolState;
  log: Logger;
  metrics?: Metrics;
  timings: PlanTimings;
  /** Throws when this process may not act (lease lost, shutdown). */
  assertMayAct: () => void;
  /** The RunTask failure history the planner's backoff reads. */
  failures: () => Pick<Observed, "recentRunFailures" | "lastRunAtMs">;
  /** Every fast launch's outcome, for the pass's backoff bookkeeping. */
  onOutcome: (o: ActOutcome) => void;
  /** Tasks ECS started, the moment RunTask answers (the task cache's expectations). */
  onLaunched?: (tasks: EcsTask[]) => void;
}

/** Stream entry types after which a refill may be due (a task left the idle set). */
const WAKES = new Set(["claim", "miss"]);
/** Stream entry types after which a task is no longer starting. */
const NOT_STARTING = new Set(["register", "claim", "cordon"]);

export class FastRefiller {
  private context: FastContext | undefined;
  private readonly starting = new Set<string>();
  /** Ids the stream said left `starting` since the pass's mark: its snapshot may predate that. */
  private readonly leftSinceMark = new Set<string>();
  /**
   * While a refill reads Redis: every id that was starting when the read began or became starting
   * since, removals ignored. A task that registers during the read is then counted here even
   * though the warm count read before it registered does not have it.
   */
  private readonly windows = new Set<Set<string>>();
  /** Live ECS tasks with no record at the last pass (counted idle, as the planner does). */
  private unrecorded = 0;
  private inFlight = 0;
  private seq = 0;
  /** Tasks the fast path launched, with the sequence number of their launch. */
  private readonly launched = new Map<string, number>();
  private running: Promise<void> | undefined;
  private again = false;
  /** Off: the pass alone refills, as before the fast path (tests show the difference with it). */
  enabled = true;
  /** Refills that issued RunTask, and the tasks they started (tests, status). */
  refills = 0;
  tasksLaunched = 0;
  /** Refills that launched nothing, by why (bench and tests: is the fast path doing the work?). */
  readonly held: Record<string, number> = {};
  /** When the last fast RunTask was issued (ms), for tests and logs. */
  lastLaunchAtMs: number | undefined;

  constructor(private readonly d: FastRefillDeps) {}

  /** Leadership changed or a pass was abandoned: nothing fast until a full pass has counted again. */
  invalidate(): void {
    this.context = undefined;
  }

  /** Call before the pass's Redis snapshot; hand the result to afterSnapshot. */
  mark(): number {
    this.leftSinceMark.clear();
    return this.seq;
  }

  /**
   * After the pass planned from a snapshot taken after `mark`: takes its starting set from the
   * snapshot and returns how many launches the snapshot does not show (RunTask in flight, fast
   * launches recorded after it): the pass launches that many fewer.
   */
  afterSnapshot(
    mark: number,
    records: readonly TaskRecord[],
    ecs: readonly EcsTask[],
    context: FastContext | undefined,
  ): number {
    const recorded = new Set(records.map((r) => r.taskId));
    this.starting.clear();
    for (const r of records)
      if (r.state === "starting" && !this.leftSinceMark.has(r.taskId)) this.addStarting(r.taskId);
    let unseen = 0;
    for (const [id, at] of this.launched) {
      if (at <= mark) {
        this.launched.delete(id);
      } else if (!recorded.has(id)) {
        this.addStarting(id);
        unseen++;
      }
    }
    this.unrecorded = ecs.filter(
      (t) => t.lastStatus !== "STOPPED" && !recorded.has(t.taskId) && !this.starting.has(t.taskId),
    ).length;
    this.context = context;
    return unseen + this.inFlight;
  }

  /** The pass is about to ask RunTask for `n` tasks. */
  beginLaunch(n: number): void {
    this.inFlight += n;
  }

  /** RunTask calls for `n` tasks are over; `tasks` are those ECS started. */
  endLaunch(n: number, tasks: readonly EcsTask[], fast = false): void {
    for (const t of tasks) {
      this.addStarting(t.taskId);
      if (fast) this.launched.set(t.taskId, ++this.seq);
    }
    this.inFlight = Math.max(0, this.inFlight - n);
  }

  private addStarting(id: string): void {
    this.starting.add(id);
    for (const w of this.windows) w.add(id);
  }

  /** Every entry the trigger reads: keeps `starting` current and wakes a refill after a claim. */
  onEntries(entries: readonly { type: string; taskId?: string }[]): void {
    let wake = false;
    for (const e of entries) {
      if (e.taskId && NOT_STARTING.has(e.type)) {
        this.starting.delete(e.taskId);
        this.leftSinceMark.add(e.taskId);
      }
      if (WAKES.has(e.type)) wake = true;
    }
    if (wake) this.kick();
  }

  /** Runs a refill now, or once more after the one running (never two at once). */
  kick(): void {
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = (async () => {
      do {
        this.again = false;
        await this.refill().catch((err: unknown) => {
          this.d.log.warn({ err: String(err) }, "fast refill failed: the next pass refills");
        });
      } while (this.again && this.context);
    })().finally(() => (this.running = undefined));
  }

  /** Waits for a refill in progress (tests, shutdown). */
  async settled(): Promise<void> {
    while (this.running) await this.running;
  }

  private async refill(): Promise<void> {
    const ctx = this.context;
    if (!this.enabled || !ctx || ctx.revision === undefined) return;
    try {
      this.d.assertMayAct();
    } catch {
      return;
    }
    const k = this.d.keys;
    // One atomic read (MULTI), and the starting ids from before it on: see `windows`.
    const window = new Set(this.starting);
    this.windows.add(window);
    let res: [Error | null, unknown][] | null;
    try {
      res = await this.d.redis.multi().zcard(k.warm).scard(k.tasks).llen(k.waiting).exec();
    } finally {
      this.windows.delete(window);
    }
    const n = (i: number): number => {
      const [err, v] = res?.[i] ?? [new Error("no reply")];
      if (err) throw err;
      return Number(v);
    };
    const [warm, total, waiting] = [n(0), n(1), n(2)];
    // From here to beginLaunch nothing awaits: a pass planning meanwhile sees these launches in
    // flight, and these counts include the launches of a pass that began before.
    if (this.context !== ctx) return;
    const notRecorded = this.inFlight + this.unrecorded;
    const r = fastRefill(
      {
        desired: ctx.desired,
        counts: { warm, starting: window.size + notRecorded, total: total + notRecorded, waiting },
        revision: ctx.revision,
        ...this.d.failures(),
      },
      Date.now(),
      this.d.timings,
    );
    const runs = r.actions.filter((a): a is Extract<Action, { kind: "run" }> => a.kind === "run");
    const count = runs.reduce((s, a) => s + a.count, 0);
    if (count === 0) {
      const why = r.held ?? "none";
      this.held[why] = (this.held[why] ?? 0) + 1;
      return;
    }
    this.inFlight += count;
    let outcome: ActOutcome | undefined;
    this.lastLaunchAtMs = Date.now();
    try {
      outcome = await act(
        {
          pool: this.d.pool,
          store: this.d.store,
          ecs: this.d.ecs,
          log: this.d.log,
          assertMayAct: this.d.assertMayAct,
          arnOf: () => undefined,
          ...(this.d.onLaunched ? { onLaunched: this.d.onLaunched } : {}),
          ...(this.d.metrics ? { metrics: this.d.metrics } : {}),
        },
        runs,
      );
    } catch (err) {
      // Lease lost or fenced mid-way: what was launched is unknown here; the next term recounts.
      this.invalidate();
      this.inFlight = Math.max(0, this.inFlight - count);
      if (isStopSignal(err)) return;
      throw err;
    }
    this.endLaunch(count, outcome.launched, true);
    this.refills++;
    this.tasksLaunched += outcome.launched.length;
    this.d.onOutcome(outcome);
    this.d.log.info(
      {
        target: r.target,
        idle: r.idle,
        warm,
        waiting,
        launched: outcome.launched.length,
        errors: outcome.errors,
      },
      `fast refill: run ${count} below-target`,
    );
  }
}
