import type { TaskRecord } from "../plan/index.js";

/**
 * Durations the reconciler measures from what each pass observes:
 *
 * - task start (RunTask → registered warm, `warmAtMs − createdAtMs`), once per task, on the first
 *   pass that sees it registered. Tasks already registered when this process first observes the
 *   pool are marked seen without a sample: a previous leader measured them.
 * - refill: from the first pass that saw the warm count below the target to the first pass that
 *   sees it back at the target.
 */
export class PoolTiming {
  private readonly seen = new Set<string>();
  private primed = false;
  private belowSinceMs: number | undefined;

  /** Start durations (ms) of tasks seen registered for the first time this pass. */
  newStarts(records: readonly TaskRecord[]): number[] {
    const out: number[] = [];
    const present = new Set<string>();
    for (const r of records) {
      present.add(r.taskId);
      if (r.warmAtMs === undefined || this.seen.has(r.taskId)) continue;
      this.seen.add(r.taskId);
      if (this.primed && r.createdAtMs > 0 && r.warmAtMs >= r.createdAtMs)
        out.push(r.warmAtMs - r.createdAtMs);
    }
    // Forget tasks whose records are gone, so the set stays the size of the pool.
    for (const id of this.seen) if (!present.has(id)) this.seen.delete(id);
    this.primed = true;
    return out;
  }

  /** The refill that ended this pass (ms), if any. */
  refill(warm: number, target: number, nowMs: number): number | undefined {
    if (warm < target) {
      this.belowSinceMs ??= nowMs;
      return undefined;
    }
    const since = this.belowSinceMs;
    this.belowSinceMs = undefined;
    return since === undefined ? undefined : nowMs - since;
  }
}
