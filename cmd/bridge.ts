/**
 * `warmpool bridge`: the process each pool task runs (DESIGN §2). Reads its settings from flags or
 * the task definition's environment (WARMPOOL_POOL, WARMPOOL_REDIS_URL, WARMPOOL_WORKSPACE_ROOT,
 * WARMPOOL_AGENT_COMMAND, …) and its task ARN from ECS task metadata; everything else is pkg/bridge.
 */
import type { CommandModule } from "yargs";
import { parseAgentCommand, runBridge } from "../pkg/bridge/index.js";
import { userIdPattern } from "../pkg/claims/index.js";
import { createLogger } from "../pkg/log/index.js";

const F = {
  pool: "pool",
  redisUrl: "redis-url",
  root: "workspace-root",
  agent: "agent-command",
  agentEnv: "agent-env",
  taskArn: "task-arn",
  listenHost: "listen-host",
  port: "session-port",
  advertiseHost: "advertise-host",
  userIdPattern: "user-id-pattern",
  uidBase: "uid-base",
  stopGrace: "stop-grace-ms",
} as const;

interface Args {
  [F.pool]: string;
  [F.redisUrl]: string;
  [F.root]: string;
  [F.agent]: string;
  [F.agentEnv]: string[];
  [F.taskArn]?: string;
  [F.listenHost]: string;
  [F.port]: number;
  [F.advertiseHost]?: string;
  [F.userIdPattern]?: string;
  [F.uidBase]?: number;
  [F.stopGrace]: number;
}

export const bridgeCommand: CommandModule<object, Args> = {
  command: "bridge",
  describe: "run inside a pool task: register warm, take init_user, start the agent, serve the session",
  builder: (y) =>
    y
      .option(F.pool, { type: "string", demandOption: true, describe: "pool name" })
      .option(F.redisUrl, { type: "string", default: "redis://127.0.0.1:6379", describe: "Redis URL" })
      .option(F.root, {
        type: "string",
        demandOption: true,
        describe: "shared workspace root; a session runs in <root>/<userId>",
      })
      .option(F.agent, {
        type: "string",
        default: "optima headless",
        describe: 'agent command: words, or a JSON array such as ["sh","-c","..."]',
      })
      .option(F.agentEnv, {
        type: "string",
        array: true,
        default: [],
        describe: "names of environment variables passed to the agent (it gets a clean environment)",
      })
      .option(F.taskArn, { type: "string", describe: "task ARN (default: from ECS task metadata v4)" })
      .option(F.listenHost, {
        type: "string",
        default: "127.0.0.1",
        describe: "address the session server binds",
      })
      .option(F.port, { type: "number", default: 0, describe: "session server port (0 = a free one)" })
      .option(F.advertiseHost, {
        type: "string",
        describe: "host put in the endpoint (default: listen host, or the task IP when listening on 0.0.0.0)",
      })
      .option(F.userIdPattern, { type: "string", describe: "regular expression user ids must match" })
      .option(F.uidBase, {
        type: "number",
        describe: "run each user's agent as UID/GID base+n (bridge runs as root)",
      })
      .option(F.stopGrace, {
        type: "number",
        default: 5_000,
        describe: "SIGTERM → SIGKILL grace for the agent",
      })
      .example(
        "$0 bridge --pool dev --workspace-root /mnt/efs --listen-host 0.0.0.0 --session-port 8700",
        "in an ECS task (ARN from metadata)",
      )
      .example(
        `$0 bridge --pool dev --workspace-root /tmp/ws --task-arn arn:aws:ecs:us-east-1:000000000000:task/c/abc123 --agent-command '["sh","-i"]'`,
        "locally, with a shell as the agent",
      ),
  handler: async (a) => {
    const logger = createLogger({ bindings: { component: "bridge", pool: a[F.pool] } });
    const stop = new AbortController();
    const onSignal = (): void => stop.abort();
    process.once("SIGTERM", onSignal);
    process.once("SIGINT", onSignal);
    const code = await runBridge(
      {
        pool: a[F.pool],
        redisUrl: a[F.redisUrl],
        workspaceRoot: a[F.root],
        agent: { ...parseAgentCommand(a[F.agent]), passEnv: a[F.agentEnv] },
        taskArn: a[F.taskArn],
        metadataUri: process.env.ECS_CONTAINER_METADATA_URI_V4,
        listenHost: a[F.listenHost],
        port: a[F.port],
        advertiseHost: a[F.advertiseHost],
        userIdPattern: userIdPattern(a[F.userIdPattern]),
        uidBase: a[F.uidBase],
        stopGraceMs: a[F.stopGrace],
        logger,
      },
      stop.signal,
    );
    process.exit(code);
  },
};
