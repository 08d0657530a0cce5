/**
 * The reconciler's picture of ECS between relists (DESIGN §6 step 3, an informer's store): per
 * pool task the latest known state and its `version`. Three writers feed it — the event feed
 * (applied by version: duplicates and stale changes dropped), the reconciler's own RunTask and
 * StopTask answers (expectations), and relists or targeted describes, which also confirm what ECS
 * no longer has and count how much the cache had wrong (drift). It never reads ECS itself.
 */
import { taskIdOf } from "../ecs/index.js";
import type { EcsTask } from "../plan/index.js";

export type CacheSource = "event" | "run" | "stop" | "describe";

export interface CacheEntry {
  task: EcsTask;
  /** ECS's version of this state (0 when the writer did not know it). */
  version: number;
  source: CacheSource;
  /** Local time of the last write. */
  updatedAtMs: number;
  /** Local time a describe (relist or targeted) last confirmed this entry, if ever. */
  describedAtMs?: number;
  /** DescribeTasks answered MISSING: the task is gone for good. */
  gone?: boolean;
}

export type EventOutcome = "applied" | "duplicate" | "stale";

/** A described answer, as observeEcs or one DescribeTasks batch gives it. */
export interface DescribeAnswer {
  tasks: EcsTask[];
  missing: string[];
  foreign: string[];
}

/** Stopped tasks are kept this long after their last change, so a late event finds them stopped. */
const TOMBSTONE_MS = 3_600_000;

const live = (t: EcsTask): boolean => t.desiredStatus === "RUNNING" && t.lastStatus !== "STOPPED";

export class TaskCache {
  private readonly entries = new Map<string, CacheEntry>();
  private readonly foreign = new Set<string>();

  /** One state change from the feed. */
  applyEvent(task: EcsTask, version: number, nowMs: number): EventOutcome {
    const e = this.entries.get(task.taskId);
    if (e?.gone) return "stale";
    if (e && e.version > version) return "stale";
    if (e && e.version === version && e.source !== "stop") return "duplicate";
    // A StopTask answer set desiredStatus without a version: an event of the same version is
    // older than our stop, unless it already says stopped.
    if (e && e.version === version && live(task)) return "stale";
    this.entries.set(task.taskId, {
      task: { ...task, version },
      version,
      source: "event",
      updatedAtMs: nowMs,
    });
    return "applied";
  }

  /** RunTask's answer: the task exists from now on, whatever the feed has not said yet. */
  noteLaunched(tasks: EcsTask[], nowMs: number): void {
    for (const t of tasks) {
      const v = t.version ?? 0;
      const e = this.entries.get(t.taskId);
      if (e && e.version >= v) continue;
      this.entries.set(t.taskId, { task: t, version: v, source: "run", updatedAtMs: nowMs });
    }
  }

  /** StopTask returned: ECS now wants it stopped (its lastStatus follows by events or a describe). */
  noteStopped(taskId: string, nowMs: number): void {
    const e = this.entries.get(taskId);
    if (!e || !live(e.task)) return;
    this.entries.set(taskId, {
      ...e,
      task: { ...e.task, desiredStatus: "STOPPED" },
      source: "stop",
      updatedAtMs: nowMs,
    });
  }

  /**
   * A describe's answer (a relist, or a targeted DescribeTasks). Returns the drift: tasks whose
   * liveness or status the cache had wrong, counting only entries no newer write touched since
   * the describe began (`sinceMs`). MISSING ARNs become confirmed-gone tombstones.
   */
  applyDescribed(a: DescribeAnswer, sinceMs: number, nowMs: number): number {
    let drift = 0;
    for (const t of a.tasks) {
      const e = this.entries.get(t.taskId);
      const v = t.version ?? 0;
      if (!e) {
        if (live(t)) drift++;
        this.entries.set(t.taskId, {
          task: t,
          version: v,
          source: "describe",
          updatedAtMs: nowMs,
          describedAtMs: nowMs,
        });
        continue;
      }
      if (e.version > v && !e.gone) {
        // The cache already holds a later change (an event that overtook the describe): keep it.
        e.describedAtMs = nowMs;
        continue;
      }
      if (e.updatedAtMs < sinceMs && (e.gone === true || live(e.task) !== live(t))) drift++;
      this.entries.set(t.taskId, {
        task: t,
        version: v,
        source: "describe",
        updatedAtMs: nowMs,
        describedAtMs: nowMs,
      });
    }
    for (const arn of a.missing) {
      const id = taskIdOf(arn);
      const e = this.entries.get(id);
      if (e && e.updatedAtMs >= sinceMs && e.source === "run") continue; // launched during the describe
      if (e && live(e.task)) drift++;
      const base: EcsTask = e?.task ?? {
        taskId: id,
        taskArn: arn,
        lastStatus: "STOPPED",
        desiredStatus: "STOPPED",
        taskDefinitionArn: "",
        createdAtMs: 0,
      };
      this.entries.set(id, {
        task: { ...base, lastStatus: "STOPPED", desiredStatus: "STOPPED" },
        version: Number.MAX_SAFE_INTEGER,
        source: "describe",
        updatedAtMs: nowMs,
        describedAtMs: nowMs,
        gone: true,
      });
    }
    for (const arn of a.foreign) {
      this.foreign.add(arn);
      this.entries.delete(taskIdOf(arn));
    }
    return drift;
  }

  /** After a full relist: a live entry the relist neither listed nor described is drift, and gone. */
  settleRelist(seen: Set<string>, sinceMs: number, nowMs: number): number {
    let drift = 0;
    for (const [id, e] of this.entries) {
      if (seen.has(id)) continue;
      if (live(e.task) && e.updatedAtMs < sinceMs) {
        drift++;
        this.entries.set(id, {
          ...e,
          task: { ...e.task, lastStatus: "STOPPED", desiredStatus: "STOPPED" },
          source: "describe",
          updatedAtMs: nowMs,
          describedAtMs: nowMs,
        });
      } else if (!live(e.task) && nowMs - e.updatedAtMs > TOMBSTONE_MS) this.entries.delete(id);
    }
    return drift;
  }

  get(taskId: string): CacheEntry | undefined {
    return this.entries.get(taskId);
  }

  isForeign(taskArn: string): boolean {
    return this.foreign.has(taskArn);
  }

  /** Every entry's task (stopped ones too: the planner forgets their records). */
  tasks(): EcsTask[] {
    return [...this.entries.values()].map((e) => e.task);
  }

  /** ARNs of entries the cache believes live (a relist describes them even if ListTasks lags). */
  liveArns(): string[] {
    const out: string[] = [];
    for (const e of this.entries.values()) if (live(e.task)) out.push(e.task.taskArn);
    return out;
  }

  get size(): number {
    return this.entries.size;
  }

  clear(): void {
    this.entries.clear();
    this.foreign.clear();
  }

  /**
   * A new lease term starts from nothing but this process's own launches that nothing has
   * confirmed yet (RunTask answers): they are facts, and the only trace of a launch whose record
   * Redis did not take. Kept live until the term's first relist describes them.
   */
  restart(): void {
    this.foreign.clear();
    for (const [id, e] of this.entries) if (e.source !== "run" || !live(e.task)) this.entries.delete(id);
  }
}
