/**
 * Real local processes standing in for task containers. Each runs in its own process group
 * (as a container has its own PID namespace), so stopping a task signals the whole group, and
 * when the main process exits whatever it left behind is killed with it. A process-exit hook
 * SIGKILLs every group still alive if the emulator's own process exits, and a watchdog process
 * does the same if it is killed outright.
 */
import { spawn, type ChildProcess } from "node:child_process";
import type { TaskProcessOptions } from "./options.js";
import { Watchdog } from "./watchdog.js";

export interface ProcessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Set when the command could not be started at all. */
  error?: Error;
}

interface Running {
  child: ChildProcess;
  pid: number;
  exited: Promise<void>;
  killTimer?: NodeJS.Timeout;
}

const liveGroups = new Set<number>();
let exitHookInstalled = false;

function signalGroup(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(-pid, sig);
  } catch {
    // ESRCH: the group is already gone.
  }
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on("exit", () => {
    for (const pid of liveGroups) signalGroup(pid, "SIGKILL");
  });
}

export class TaskProcesses {
  private readonly running = new Map<string, Running>();
  /** Kills the groups if this process dies before killAll() runs. */
  readonly watchdog = new Watchdog();

  constructor(private readonly opts: TaskProcessOptions) {
    installExitHook();
  }

  /** Starts the task's process; `onExit` is called once, when it (or its spawn) ends. */
  start(taskId: string, env: Record<string, string>, onExit: (e: ProcessExit) => void): number | undefined {
    let settled = false;
    let resolveExited!: () => void;
    const exited = new Promise<void>((r) => (resolveExited = r));
    const child = spawn(this.opts.command, this.opts.args ?? [], {
      env,
      cwd: this.opts.cwd,
      detached: true,
      stdio: ["ignore", this.opts.stdio ?? "ignore", this.opts.stdio ?? "ignore"],
    });
    const finish = (e: ProcessExit): void => {
      if (settled) return;
      settled = true;
      const r = this.running.get(taskId);
      if (r?.killTimer) clearTimeout(r.killTimer);
      if (child.pid !== undefined) {
        // The main process is gone; nothing else of its "container" may outlive it.
        signalGroup(child.pid, "SIGKILL");
        liveGroups.delete(child.pid);
        this.watchdog.forget(child.pid);
      }
      this.running.delete(taskId);
      resolveExited();
      onExit(e);
    };
    child.once("error", (error) => finish({ code: null, signal: null, error }));
    child.once("exit", (code, signal) => finish({ code, signal }));
    if (child.pid === undefined) return undefined;
    liveGroups.add(child.pid);
    this.watchdog.watch(child.pid);
    this.running.set(taskId, { child, pid: child.pid, exited });
    return child.pid;
  }

  has(taskId: string): boolean {
    return this.running.has(taskId);
  }

  /** SIGTERM to the task's group now, SIGKILL after `timeoutMs` if it is still there. */
  terminate(taskId: string, timeoutMs: number): void {
    const r = this.running.get(taskId);
    if (!r) return;
    signalGroup(r.pid, "SIGTERM");
    if (!r.killTimer) r.killTimer = setTimeout(() => signalGroup(r.pid, "SIGKILL"), timeoutMs);
  }

  /** SIGKILLs every process group and waits until each main process has exited. */
  async killAll(): Promise<void> {
    const all = [...this.running.values()];
    for (const r of all) {
      if (r.killTimer) clearTimeout(r.killTimer);
      signalGroup(r.pid, "SIGKILL");
    }
    await Promise.all(all.map((r) => r.exited));
    await this.watchdog.close();
  }

  pids(): number[] {
    return [...this.running.values()].map((r) => r.pid);
  }
}
