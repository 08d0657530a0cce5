/**
 * Walks tasks through ECS's states on timers:
 *   PROVISIONING → PENDING → RUNNING → DEACTIVATING → STOPPING → STOPPED
 * Each step waits a latency sampled for the task's launch type, times `timeScale`. A
 * process-backed task spawns its process at PENDING → RUNNING (RUNNING means the process has
 * been started), receives SIGTERM at STOPPING and SIGKILL after its container's `stopTimeout`
 * (real seconds, not scaled); it reaches STOPPED once the process is gone. A process that exits
 * by itself stops its task with `EssentialContainerExited`.
 */
import { sampleLatency, type LifecycleLatencies, type ResolvedOptions } from "./options.js";
import type { TaskProcesses, ProcessExit } from "./task-process.js";
import type { ContainerDefinition, TaskDefinitionRecord, TaskRecord, TaskStatus } from "./types.js";

export interface LifecycleHooks {
  /** Builds the process environment of a task (the metadata endpoint needs the server's address). */
  envFor(task: TaskRecord, container: ContainerDefinition): Record<string, string>;
  /** Called when a task reaches STOPPED (capacity is released there). */
  onStopped?(task: TaskRecord): void;
  /** Called after every change of a task's lastStatus or desiredStatus, creation included. */
  onChange?(task: TaskRecord): void;
}

interface Tracked {
  task: TaskRecord;
  td: TaskDefinitionRecord;
  timer?: NodeJS.Timeout;
  /** The process has exited (or never ran); STOPPING need not wait for it. */
  processGone: boolean;
}

const SIGNAL_NUMBERS: Record<string, number> = { SIGKILL: 9, SIGTERM: 15, SIGINT: 2, SIGHUP: 1 };

export class Lifecycle {
  private readonly tracked = new Map<string, Tracked>();
  private closed = false;

  constructor(
    private readonly opts: ResolvedOptions,
    private readonly processes: TaskProcesses | undefined,
    private readonly hooks: LifecycleHooks,
  ) {}

  private delay(task: TaskRecord, step: keyof LifecycleLatencies): number {
    const l = this.opts.latencies[task.launchType][step];
    return Math.max(0, sampleLatency(l, this.opts.random) * this.opts.timeScale);
  }

  private after(tr: Tracked, step: keyof LifecycleLatencies, fn: () => void): void {
    if (tr.timer) clearTimeout(tr.timer);
    if (this.closed) return;
    tr.timer = setTimeout(
      () => {
        tr.timer = undefined;
        if (!this.closed) fn();
      },
      this.delay(tr.task, step),
    );
    tr.timer.unref();
  }

  private set(task: TaskRecord, status: TaskStatus, now = Date.now()): void {
    task.lastStatus = status;
    task.version += 1;
    task.history.push({ status, at: now });
    this.hooks.onChange?.(task);
  }

  /** The container the task's process stands for: the first essential one. */
  private mainContainer(td: TaskDefinitionRecord): ContainerDefinition {
    return (td.containerDefinitions.find((c) => c.essential !== false) ??
      td.containerDefinitions[0]) as ContainerDefinition;
  }

  /** Starts a new task's walk; `failReason` makes it die before RUNNING (TaskFailedToStart). */
  launch(task: TaskRecord, td: TaskDefinitionRecord, failReason?: string): void {
    const tr: Tracked = { task, td, processGone: true };
    this.tracked.set(task.taskId, tr);
    task.history.push({ status: task.lastStatus, at: task.createdAt });
    this.hooks.onChange?.(task);
    this.after(tr, "provisioning", () => {
      const now = Date.now();
      this.set(task, "PENDING", now);
      task.pullStartedAt = now;
      if (task.launchType === "FARGATE") task.connectivityAt = now;
      if (failReason !== undefined) {
        this.after(tr, "pending", () => {
          task.pullStoppedAt = Date.now();
          for (const c of task.containers) c.reason = failReason;
          this.beginStop(tr, "TaskFailedToStart", failReason);
        });
        return;
      }
      this.after(tr, "pending", () => this.run(tr));
    });
  }

  private run(tr: Tracked): void {
    const { task, td } = tr;
    const now = Date.now();
    task.pullStoppedAt = now;
    task.startedAt = now;
    for (const c of task.containers) c.lastStatus = "RUNNING";
    this.set(task, "RUNNING", now);
    if (!this.processes) return;
    const container = this.mainContainer(td);
    tr.processGone = false;
    const pid = this.processes.start(task.taskId, this.hooks.envFor(task, container), (e) =>
      this.exited(tr, e),
    );
    if (pid !== undefined) task.pid = pid;
  }

  private exited(tr: Tracked, e: ProcessExit): void {
    const { task } = tr;
    tr.processGone = true;
    const exitCode = e.code ?? (e.signal ? 128 + (SIGNAL_NUMBERS[e.signal] ?? 0) : undefined);
    const main = task.containers[0];
    if (main) {
      if (exitCode !== undefined) main.exitCode = exitCode;
      if (e.error) main.reason = `CannotStartContainerError: ${e.error.message}`;
    }
    task.executionStoppedAt = Date.now();
    if (task.desiredStatus === "RUNNING") {
      if (e.error) this.beginStop(tr, "TaskFailedToStart", `CannotStartContainerError: ${e.error.message}`);
      else this.beginStop(tr, "EssentialContainerExited", "Essential container in task exited");
    } else if (task.lastStatus === "STOPPING") {
      this.after(tr, "stopped", () => this.finish(tr));
    }
  }

  /** StopTask: no-op for a task already stopping; otherwise the stop walk begins. */
  stop(task: TaskRecord, reason: string | undefined): void {
    const tr = this.tracked.get(task.taskId);
    if (!tr || task.desiredStatus === "STOPPED") return;
    this.beginStop(tr, "UserInitiated", reason ?? "Task stopped by user");
  }

  /** Stops a task for a reason other than StopTask (its host went away, …). */
  stopWith(task: TaskRecord, stopCode: string, reason: string): void {
    const tr = this.tracked.get(task.taskId);
    if (!tr || task.desiredStatus === "STOPPED") return;
    this.beginStop(tr, stopCode, reason);
  }

  private beginStop(tr: Tracked, stopCode: string, reason: string): void {
    const { task } = tr;
    task.desiredStatus = "STOPPED";
    task.stopCode = stopCode;
    task.stoppedReason = reason;
    task.version += 1;
    this.hooks.onChange?.(task);
    this.after(tr, "deactivating", () => {
      this.set(task, "DEACTIVATING");
      this.after(tr, "stopping", () => {
        const now = Date.now();
        task.stoppingAt = now;
        this.set(task, "STOPPING", now);
        if (!tr.processGone && this.processes) {
          const secs = this.mainContainer(tr.td).stopTimeout ?? 30;
          this.processes.terminate(task.taskId, secs * 1000);
          return; // exited() schedules STOPPED once the process is gone
        }
        this.after(tr, "stopped", () => this.finish(tr));
      });
    });
  }

  private finish(tr: Tracked): void {
    const { task } = tr;
    const now = Date.now();
    task.executionStoppedAt ??= now;
    task.stoppedAt = now;
    for (const c of task.containers) c.lastStatus = "STOPPED";
    this.set(task, "STOPPED", now);
    this.tracked.delete(task.taskId);
    this.hooks.onStopped?.(task);
  }

  /** Cancels every pending step (processes are killed separately by their owner). */
  close(): void {
    this.closed = true;
    for (const tr of this.tracked.values()) if (tr.timer) clearTimeout(tr.timer);
    this.tracked.clear();
  }
}
