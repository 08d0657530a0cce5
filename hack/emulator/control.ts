/**
 * Ground truth and fault injection, for tests and for `warmpool dev`. What the emulator knows
 * here is what really happened (every task ever created, every call and its outcome), not what
 * the API would show after retention or visibility lag.
 */
import { parseFault, type Fault, type FaultBook, type FaultView } from "./faults.js";
import type { Store } from "./store.js";
import type { TaskProcesses } from "./task-process.js";
import type { GroupRecord } from "./autoscaling/types.js";
import type { ContainerInstanceRecord } from "./container-instances.js";
import type { TaskRecord } from "./types.js";

export type CallOutcome = "ok" | "throttled" | "error";
export type CallCounts = Record<string, Record<CallOutcome, number>>;

/** A copy of a task record, safe to keep (the emulator goes on mutating its own). */
export type TaskSnapshot = TaskRecord;

export interface EmulatorControl {
  /** Every task ever created, stopped and expired ones included, in creation order. */
  tasks(): TaskSnapshot[];
  /** One task by id or ARN, even long after it stopped. */
  task(idOrArn: string): TaskSnapshot | undefined;
  /** API calls per operation and outcome since start (or the last resetCalls). */
  calls(): CallCounts;
  resetCalls(): void;
  /** Tasks created by RunTask since start. */
  launchedCount(): number;
  /** Adds a fault; returns its id. See `Fault` for the kinds. */
  addFault(fault: Fault): string;
  /** Clears one fault, or all of them. */
  clearFaults(id?: string): void;
  faults(): FaultView[];
  /** PIDs of task processes still alive. */
  livePids(): number[];
  /** Auto Scaling groups with every instance (warm pool included) and its state history. */
  autoScalingGroups(): AutoScalingGroupSnapshot[];
  /** ECS container instances ever registered (INACTIVE once their EC2 instance left service). */
  containerInstances(): ContainerInstanceSnapshot[];
}

export type AutoScalingGroupSnapshot = Omit<GroupRecord, "instances"> & {
  instances: Omit<GroupRecord["instances"][number], "timer">[];
};
export type ContainerInstanceSnapshot = Omit<ContainerInstanceRecord, "tasks"> & { taskIds: string[] };

/** Where the control finds what it reports beyond tasks. */
export interface ControlSources {
  groups(): Iterable<GroupRecord>;
  containerInstances(): ContainerInstanceRecord[];
}

export class Control implements EmulatorControl {
  private counts: CallCounts = {};

  constructor(
    private readonly store: Store,
    private readonly book: FaultBook,
    private readonly launched: { count: number },
    private readonly processes: TaskProcesses | undefined,
    private readonly sources: ControlSources,
  ) {}

  record(op: string, outcome: CallOutcome): void {
    const c = (this.counts[op] ??= { ok: 0, throttled: 0, error: 0 });
    c[outcome] += 1;
  }

  tasks(): TaskSnapshot[] {
    return this.store.allTasks.map((t) => structuredClone(t));
  }

  task(idOrArn: string): TaskSnapshot | undefined {
    const id = idOrArn.split("/").pop() ?? idOrArn;
    const t = this.store.byId.get(id);
    return t ? structuredClone(t) : undefined;
  }

  calls(): CallCounts {
    return structuredClone(this.counts);
  }

  resetCalls(): void {
    this.counts = {};
  }

  launchedCount(): number {
    return this.launched.count;
  }

  addFault(fault: Fault): string {
    return this.book.add(parseFault(fault));
  }

  clearFaults(id?: string): void {
    this.book.clear(id);
  }

  faults(): FaultView[] {
    return this.book.list();
  }

  livePids(): number[] {
    return this.processes?.pids() ?? [];
  }

  autoScalingGroups(): AutoScalingGroupSnapshot[] {
    return [...this.sources.groups()].map((g) => ({
      ...structuredClone({ ...g, instances: [] }),
      instances: g.instances.map(({ timer: _timer, ...i }) => structuredClone(i)),
    }));
  }

  containerInstances(): ContainerInstanceSnapshot[] {
    return this.sources.containerInstances().map(({ tasks, ...ci }) => ({
      ...structuredClone(ci),
      taskIds: [...tasks.keys()],
    }));
  }
}
