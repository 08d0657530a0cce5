/**
 * How many pool tasks one instance holds: given in desired state, or derived from the task's
 * CPU/memory and the resources the cluster's container instances registered with ECS. The
 * smallest instance decides (a mixed group must fit the plan on any of its instances).
 */
import type { ContainerInstance, TaskSize, TasksPerInstanceSource } from "./types.js";

export interface TasksPerInstance {
  value?: number;
  source: TasksPerInstanceSource;
  /** Why it is unknown, when it is. */
  why?: string;
}

export function tasksPerInstance(
  given: number | undefined,
  taskSize: TaskSize | undefined,
  instances: ContainerInstance[],
): TasksPerInstance {
  if (given !== undefined) return { value: given, source: "given" };
  if (!taskSize) return { source: "unknown", why: "task size unknown" };
  const registered = instances.filter((c) => c.status === "ACTIVE" || c.status === "DRAINING");
  if (registered.length === 0) return { source: "unknown", why: "no container instance registered yet" };
  let least = Infinity;
  for (const c of registered) least = Math.min(least, slots(c.registered, taskSize));
  if (least < 1) {
    return {
      source: "unknown",
      why: `a task (${taskSize.cpu} CPU, ${taskSize.memory} MiB) does not fit an instance`,
    };
  }
  return { value: least, source: "derived" };
}

/** Tasks of `size` that fit in `room`; a dimension the task does not reserve never limits. */
export function slots(room: { cpu: number; memory: number }, size: TaskSize): number {
  const byCpu = size.cpu > 0 ? Math.floor(room.cpu / size.cpu) : Infinity;
  const byMem = size.memory > 0 ? Math.floor(room.memory / size.memory) : Infinity;
  const n = Math.min(byCpu, byMem);
  return Number.isFinite(n) ? Math.max(0, n) : 0;
}
