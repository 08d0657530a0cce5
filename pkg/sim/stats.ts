/**
 * What a run measured: claim waits and outcomes, task-hours split into busy (serving a user)
 * and idle (starting, warm, draining: paid for and serving no one), API calls, and a time
 * series for the chart. Task-hours are summed per task from its own lifecycle times, not
 * sampled, so they are exact for the run.
 */
import type { Violations } from "./ledger.js";
import type { Counters, SimTask } from "./world.js";

export interface Series {
  bucketMs: number;
  /** Start of each bucket. */
  tMs: number[];
  /** Claims arriving per second in the bucket. */
  demandPerS: number[];
  /** Warm tasks at the end of the bucket, and the lowest seen within it. */
  warm: number[];
  warmMin: number[];
  /** Warm target of the last pass in the bucket. */
  target: number[];
  claimed: number[];
  /** Longest claim wait (ms) among claims served in the bucket, and misses. */
  maxWaitMs: number[];
  misses: number[];
}

export interface SimResult {
  label: string;
  seed: number;
  durationMs: number;
  claims: number;
  hits: number;
  misses: number;
  /** Claims still queued when the run ended (counted as misses, their wait so far included). */
  unserved: number;
  hitRate: number;
  waitP50Ms: number;
  waitP99Ms: number;
  waitMaxMs: number;
  idleTaskHours: number;
  busyTaskHours: number;
  totalTaskHours: number;
  cost: number;
  pricePerTaskHour: number;
  runTaskCalls: number;
  stopTaskCalls: number;
  tasksLaunched: number;
  runFailures: number;
  launchThrottled: number;
  neverRegistered: number;
  stopsByReason: Record<string, number>;
  passes: { event: number; resync: number };
  /** Time-weighted mean of the warm target planned. */
  meanTarget: number;
  violations: Violations;
  series: Series;
}

export class WaitSamples {
  private buf = new Float64Array(1024);
  private n = 0;

  add(ms: number): void {
    if (this.n === this.buf.length) {
      const b = new Float64Array(this.buf.length * 2);
      b.set(this.buf);
      this.buf = b;
    }
    this.buf[this.n++] = ms;
  }

  get count(): number {
    return this.n;
  }

  /** Nearest-rank quantiles (q in (0, 1]) and the maximum. */
  summary(): { p50: number; p99: number; max: number } {
    if (this.n === 0) return { p50: 0, p99: 0, max: 0 };
    const s = this.buf.slice(0, this.n).sort();
    const at = (q: number) => s[Math.max(0, Math.ceil(q * this.n) - 1)]!;
    return { p50: at(0.5), p99: at(0.99), max: s[this.n - 1]! };
  }
}

export function emptySeries(bucketMs: number): Series {
  return {
    bucketMs,
    tMs: [],
    demandPerS: [],
    warm: [],
    warmMin: [],
    target: [],
    claimed: [],
    maxWaitMs: [],
    misses: [],
  };
}

/** Busy and total task-hours from each task's own lifecycle, cut at the end of the run. */
export function taskHours(history: readonly SimTask[], endMs: number): { busy: number; total: number } {
  let busyMs = 0;
  let totalMs = 0;
  for (const t of history) {
    const end = Math.min(t.stoppedAtMs ?? endMs, endMs);
    totalMs += end - t.ecs.createdAtMs;
    if (t.claimedAtMs !== undefined) busyMs += Math.min(t.releasedAtMs ?? end, end) - t.claimedAtMs;
  }
  return { busy: busyMs / 3_600_000, total: totalMs / 3_600_000 };
}

export function counterFields(c: Counters) {
  return {
    runTaskCalls: c.runTaskCalls,
    stopTaskCalls: c.stopTaskCalls,
    tasksLaunched: c.tasksLaunched,
    runFailures: c.runFailures,
    launchThrottled: c.launchThrottled,
    neverRegistered: c.neverRegistered,
    stopsByReason: c.stopsByReason,
  };
}
