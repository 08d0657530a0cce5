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
import type { EventBus, EventFeedSnapshot, EventRecord, EventRule, EventRuleInput } from "./events/bus.js";
import type { QueueCounters } from "./sqs/queue.js";
import type { SqsService } from "./sqs/service.js";

export type CallOutcome = "ok" | "throttled" | "error";

export interface QueueSnapshot {
  name: string;
  url: string;
  arn: string;
  visible: number;
  inFlight: number;
  delayed: number;
  counters: QueueCounters;
}
export type CallCounts = Record<string, Record<CallOutcome, number>>;

/** One ECS or Auto Scaling call as the emulator answered it. */
export interface CallRecord {
  op: string;
  /** When the emulator answered it (ms since the epoch). */
  atMs: number;
  outcome: CallOutcome;
  /** ListTasks' startedBy, or the Auto Scaling group a call names, when given. */
  subject?: string;
}

/** How many calls `callLog()` keeps (the oldest are dropped first). */
export const CALL_LOG_MAX = 100_000;

/** A copy of a task record, safe to keep (the emulator goes on mutating its own). */
export type TaskSnapshot = TaskRecord;

export interface EmulatorControl {
  /** Every task ever created, stopped and expired ones included, in creation order. */
  tasks(): TaskSnapshot[];
  /** One task by id or ARN, even long after it stopped. */
  task(idOrArn: string): TaskSnapshot | undefined;
  /** ECS and Auto Scaling API calls per operation and outcome since start (or the last resetCalls). */
  calls(): CallCounts;
  /** SQS API calls per operation and outcome, kept apart so ECS budget figures exclude them. */
  sqsCalls(): CallCounts;
  /** The last CALL_LOG_MAX ECS and Auto Scaling calls in order, with their times (cleared by resetCalls). */
  callLog(): CallRecord[];
  /** Clears both call counts and the call log. */
  resetCalls(): void;
  /** The event feed's ground truth: rules, and events published/dropped/duplicated… per task. */
  feed(): EventFeedSnapshot;
  /** Every event sent to a rule's target and its fate (of one task, or all). */
  events(taskArn?: string): EventRecord[];
  /** Adds (or replaces by name) an EventBridge-like rule → SQS queue; returns it. */
  putEventRule(rule: EventRuleInput): EventRule;
  deleteEventRule(name: string): boolean;
  /** SQS queues with their message counts and lifetime counters. */
  queues(): QueueSnapshot[];
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
  sqs: SqsService;
  bus: EventBus;
}

export class Control implements EmulatorControl {
  private counts: CallCounts = {};
  private sqsCounts: CallCounts = {};
  private log: CallRecord[] = [];

  constructor(
    private readonly store: Store,
    private readonly book: FaultBook,
    private readonly launched: { count: number },
    private readonly processes: TaskProcesses | undefined,
    private readonly sources: ControlSources,
  ) {}

  record(op: string, outcome: CallOutcome, subject?: string): void {
    const c = (this.counts[op] ??= { ok: 0, throttled: 0, error: 0 });
    c[outcome] += 1;
    this.log.push({ op, atMs: Date.now(), outcome, ...(subject !== undefined ? { subject } : {}) });
    if (this.log.length > CALL_LOG_MAX) this.log.splice(0, this.log.length - CALL_LOG_MAX);
  }

  callLog(): CallRecord[] {
    return this.log.map((r) => ({ ...r }));
  }

  recordSqs(op: string, outcome: CallOutcome): void {
    const c = (this.sqsCounts[op] ??= { ok: 0, throttled: 0, error: 0 });
    c[outcome] += 1;
  }

  sqsCalls(): CallCounts {
    return structuredClone(this.sqsCounts);
  }

  feed(): EventFeedSnapshot {
    return this.sources.bus.snapshot();
  }

  events(taskArn?: string): EventRecord[] {
    return this.sources.bus.events(taskArn);
  }

  putEventRule(rule: EventRuleInput): EventRule {
    return this.sources.bus.putRule(rule);
  }

  deleteEventRule(name: string): boolean {
    return this.sources.bus.deleteRule(name);
  }

  queues(): QueueSnapshot[] {
    const svc = this.sources.sqs;
    return [...svc.queues.values()].map((q) => ({
      name: q.name,
      url: svc.urlOf(q.name),
      arn: q.arn,
      ...q.counts(),
      counters: { ...q.counters },
    }));
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
    this.sqsCounts = {};
    this.log = [];
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
