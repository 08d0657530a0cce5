import { randomUUID } from "node:crypto";
import type { EcsTask } from "../plan/index.js";
import type { RunFailure, TaskWriter } from "./types.js";

export interface LaunchResult {
  tasks: EcsTask[];
  failures: RunFailure[];
  /** Errors of whole calls (after the driver's retries), one per failed batch. */
  errors: Error[];
}

/**
 * Launches `count` tasks in RunTask calls of at most 10, each batch with its own clientToken (so
 * the driver's retry of a batch never launches it twice). `onBatch` runs as soon as a batch
 * returns, so the caller records the launch before the next call goes out.
 */
export async function launchTasks(
  writer: TaskWriter,
  count: number,
  taskDefinition: string,
  onBatch?: (tasks: EcsTask[]) => Promise<void>,
  shouldContinue: () => boolean = () => true,
): Promise<LaunchResult> {
  const out: LaunchResult = { tasks: [], failures: [], errors: [] };
  let left = count;
  while (left > 0 && shouldContinue()) {
    const n = Math.min(10, left);
    left -= n;
    try {
      const r = await writer.runTask({ count: n, taskDefinition, clientToken: randomUUID() });
      out.tasks.push(...r.tasks);
      out.failures.push(...r.failures);
      if (r.tasks.length > 0) await onBatch?.(r.tasks);
      // Capacity is short: further batches of this pass would fail the same way.
      if (r.failures.length > 0) break;
    } catch (err) {
      out.errors.push(err instanceof Error ? err : new Error(String(err)));
      break;
    }
  }
  return out;
}
