/** Runs the real bridge as a child process of the built CLI (dist/), as a pool task would. */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { cliEntry } from "../../pkg/util/index.js";

export interface BridgeProcess {
  child: ChildProcess;
  taskId: string;
  taskArn: string;
  exited: Promise<number | null>;
  stderr(): string;
}

/** An agent that says where it runs, records its environment, then echoes stdin (`cat`). */
export const ECHO_AGENT = JSON.stringify([
  "sh",
  "-c",
  'echo "hello $USER_ID in $(pwd)"; env > .agent-env; exec cat',
]);

export function spawnBridge(opts: {
  pool: string;
  /** Given as --redis-url; leave out to pass it by environment or file instead. */
  redisUrl?: string;
  root: string;
  agent?: string;
  taskId?: string;
  extraArgs?: string[];
  env?: Record<string, string>;
  /** Run the bridge itself as this uid/gid (a bridge that is not root). */
  uid?: number;
  /** A command the bridge is started through (e.g. setpriv limiting its capabilities). */
  wrapper?: string[];
}): BridgeProcess {
  const taskId = opts.taskId ?? randomBytes(8).toString("hex");
  const taskArn = `arn:aws:ecs:us-east-1:000000000000:task/test/${taskId}`;
  const [command, ...prefix] = [...(opts.wrapper ?? []), process.execPath];
  const child = spawn(
    command!,
    [
      ...prefix,
      cliEntry(),
      "bridge",
      "--pool",
      opts.pool,
      ...(opts.redisUrl ? ["--redis-url", opts.redisUrl] : []),
      "--workspace-root",
      opts.root,
      "--task-arn",
      taskArn,
      "--agent-command",
      opts.agent ?? ECHO_AGENT,
      "--stop-grace-ms",
      "1000",
      ...(opts.extraArgs ?? []),
    ],
    {
      stdio: ["ignore", "ignore", "pipe"],
      env: { ...inheritedEnv(), SECRET_FOR_TEST: "must-not-leak", ...opts.env },
      ...(opts.uid !== undefined ? { uid: opts.uid, gid: opts.uid } : {}),
    },
  );
  let err = "";
  child.stderr?.on("data", (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return { child, taskId, taskArn, exited, stderr: () => err };
}

/** The test runner's environment minus WARMPOOL_* (yargs reads those as flags of the bridge). */
function inheritedEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env))
    if (v !== undefined && !k.startsWith("WARMPOOL_")) env[k] = v;
  return env;
}
