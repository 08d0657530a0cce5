/**
 * Starts the agent for one user in their workspace with a clean environment: nothing of the
 * bridge's own (Redis URL, gateway tokens, AWS credentials, ECS metadata) reaches the agent.
 * With per-user isolation it also runs as the user's UID, without groups, capabilities or the
 * means to regain them (see isolation.ts).
 */
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import type { Owner } from "./workspace.js";

/** How the agent process is launched: as the bridge's uid, or switched to its user's. */
export type Launch = { kind: "shared" } | { kind: "per-user"; owner: Owner; setpriv: string; env: string };

export const SAFE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

export interface AgentSpec {
  command: string;
  args: string[];
  /** Names of bridge environment variables passed through on purpose (e.g. TERM). */
  passEnv?: string[];
}

/** Parses `optima headless` or a JSON array `["sh","-c","..."]` into command + args. */
export function parseAgentCommand(text: string): AgentSpec {
  const t = text.trim();
  let parts: string[];
  if (t.startsWith("[")) {
    const v = JSON.parse(t) as unknown;
    if (!Array.isArray(v) || !v.every((x) => typeof x === "string")) {
      throw new Error("agent command: a JSON array must hold strings only");
    }
    parts = v;
  } else {
    parts = t.split(/\s+/).filter(Boolean);
  }
  const [command, ...args] = parts;
  if (!command) throw new Error("agent command: must not be empty");
  return { command, args };
}

export function agentEnv(dir: string, userId: string, spec: AgentSpec): Record<string, string> {
  const env: Record<string, string> = {
    PATH: SAFE_PATH,
    HOME: dir,
    WORKSPACE_DIR: dir,
    USER_ID: userId,
    LANG: "C.UTF-8",
    // The container's root filesystem is read-only; the workspace is the agent's one writable place.
    TMPDIR: dir,
  };
  for (const name of spec.passEnv ?? []) {
    const v = process.env[name];
    if (v !== undefined && !/^(WARMPOOL_|AWS_|ECS_)/.test(name)) env[name] = v;
  }
  return env;
}

/** Resolves once the process has spawned (or rejects when it could not be). */
export async function startAgent(
  spec: AgentSpec,
  dir: string,
  userId: string,
  launch: Launch,
): Promise<ChildProcessWithoutNullStreams> {
  const env = agentEnv(dir, userId, spec);
  // Per-user: Node switches to the user's UID/GID (setgroups(0), setgid, setuid) in the child, then
  // setpriv sets no_new_privs and env changes into the workspace as the user; both exec in place,
  // so the agent keeps the pid the bridge knows (and signals).
  const child =
    launch.kind === "per-user"
      ? spawn(
          launch.setpriv,
          ["--no-new-privs", "--", launch.env, "-C", dir, "--", spec.command, ...spec.args],
          { cwd: "/", env, stdio: "pipe", uid: launch.owner.uid, gid: launch.owner.gid },
        )
      : spawn(spec.command, spec.args, { cwd: dir, env, stdio: "pipe" });
  await new Promise<void>((resolve, reject) => {
    child.once("spawn", resolve);
    child.once("error", (e) => reject(new Error(`starting agent ${spec.command}`, { cause: e })));
  });
  return child;
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves when the agent has exited. */
export async function stopAgent(child: ChildProcessWithoutNullStreams, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
  await exited;
  clearTimeout(timer);
}
