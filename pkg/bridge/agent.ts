/**
 * Starts the agent for one user in their workspace with a clean environment: nothing of the
 * bridge's own (Redis URL, gateway tokens, AWS credentials, ECS metadata) reaches the agent.
 */
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import type { Owner } from "./workspace.js";

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
  owner?: Owner,
): Promise<ChildProcessWithoutNullStreams> {
  const child = spawn(spec.command, spec.args, {
    cwd: dir,
    env: agentEnv(dir, userId, spec),
    stdio: "pipe",
    ...(owner ? { uid: owner.uid, gid: owner.gid } : {}),
  });
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
