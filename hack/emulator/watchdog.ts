/**
 * A tiny separate process that SIGKILLs the task process groups if the emulator's own process
 * dies without cleaning up (even by SIGKILL, which runs no exit hook). It learns the groups over
 * a pipe ("+pid" / "-pid" lines); the pipe reaching EOF means its parent is gone.
 */
import { spawn, type ChildProcess } from "node:child_process";

const SCRIPT = `
const groups = new Set();
let buf = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", (d) => {
  buf += d;
  let i;
  while ((i = buf.indexOf("\\n")) >= 0) {
    const line = buf.slice(0, i);
    buf = buf.slice(i + 1);
    const pid = Number(line.slice(1));
    if (line[0] === "+") groups.add(pid); else groups.delete(pid);
  }
});
process.stdin.on("end", () => {
  for (const p of groups) { try { process.kill(-p, "SIGKILL"); } catch {} }
  process.exit(0);
});
`;

export class Watchdog {
  private child: ChildProcess | undefined;

  private ensure(): ChildProcess {
    if (this.child) return this.child;
    const child = spawn(process.execPath, ["-e", SCRIPT], {
      detached: true,
      stdio: ["pipe", "ignore", "ignore"],
    });
    child.unref();
    (child.stdin as unknown as { unref?: () => void }).unref?.();
    child.stdin?.on("error", () => {}); // the watchdog gone early is not our failure
    this.child = child;
    return child;
  }

  watch(pid: number): void {
    this.ensure().stdin?.write(`+${pid}\n`);
  }

  forget(pid: number): void {
    this.child?.stdin?.write(`-${pid}\n`);
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Closes the pipe: the watchdog kills what it still watches and exits (as on parent death). */
  close(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null) return Promise.resolve();
    return new Promise((resolve) => {
      child.once("exit", () => resolve());
      child.stdin?.end();
    });
  }
}
