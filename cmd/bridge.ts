/**
 * `warmpool bridge`: the process each pool task runs (DESIGN §2). Reads its settings from flags or
 * the task definition's environment (WARMPOOL_POOL, WARMPOOL_REDIS_URL, WARMPOOL_WORKSPACE_ROOT,
 * WARMPOOL_AGENT_COMMAND, …) and its task ARN from ECS task metadata; everything else is pkg/bridge.
 * The agent command may also follow `--` (the task definition's `command`), which wins.
 */
import type { CommandModule } from "yargs";
import {
  extraCapabilities,
  parseAgentCommand,
  readSecretFile,
  resolveIsolation,
  runBridge,
  scrubEnvironment,
  secretOnCommandLine,
  type AgentSpec,
  type IsolationMode,
} from "../pkg/bridge/index.js";
import { userIdPattern } from "../pkg/claims/index.js";
import { createLogger } from "../pkg/log/index.js";

const F = {
  pool: "pool",
  redisUrl: "redis-url",
  redisUrlFile: "redis-url-file",
  isolation: "isolation",
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
  [F.redisUrlFile]?: string;
  [F.isolation]: IsolationMode;
  [F.root]: string;
  [F.agent]: string;
  [F.agentEnv]: string[];
  [F.taskArn]?: string;
  [F.listenHost]: string;
  [F.port]: number;
  [F.advertiseHost]?: string;
  [F.userIdPattern]?: string;
  [F.uidBase]: number;
  [F.stopGrace]: number;
}

export const bridgeCommand: CommandModule<object, Args> = {
  command: "bridge",
  describe: "run inside a pool task: register warm, take init_user, start the agent, serve the session",
  builder: (y) =>
    y
      .option(F.pool, { type: "string", demandOption: true, describe: "pool name" })
      .option(F.redisUrl, {
        type: "string",
        default: "redis://127.0.0.1:6379",
        describe:
          "Redis URL, or redis+cluster://host:port[,host:port…] for a Redis Cluster (never with a password on the command line: use the file or WARMPOOL_REDIS_URL)",
      })
      .option(F.redisUrlFile, {
        type: "string",
        describe:
          "file holding the Redis URL: owned by the bridge's uid, mode 0400/0600 (wins over --redis-url)",
      })
      .option(F.isolation, {
        choices: ["auto", "per-user", "shared"] as const,
        default: "auto" as IsolationMode,
        describe:
          "per-user: each agent as its user's UID (bridge as root); shared: as the bridge's uid (dev); auto: per-user when root",
      })
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
        default: 100_000,
        describe: "per-user isolation: user n runs as UID/GID base+n (recorded on the workspace filesystem)",
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
        "$0 bridge --pool dev --workspace-root /mnt/efs --redis-url-file /run/warmpool/redis-url -- optima headless",
        "the agent command after --",
      )
      .example(
        `$0 bridge --pool dev --workspace-root /tmp/ws --task-arn arn:aws:ecs:us-east-1:000000000000:task/c/abc123 --agent-command '["sh","-i"]'`,
        "locally, with a shell as the agent",
      ),
  handler: async (a) => {
    const logger = createLogger({ bindings: { component: "bridge", pool: a[F.pool] } });
    const fail = (msg: string): never => {
      console.error(`warmpool bridge: ${msg}`);
      process.exit(2);
    };
    const leak = secretOnCommandLine(process.argv.slice(2));
    if (leak)
      fail(
        `${leak}: a URL with a password on the command line is readable by every process (/proc/<pid>/cmdline); use --${F.redisUrlFile} or WARMPOOL_REDIS_URL`,
      );
    let agent: AgentSpec;
    let isolation;
    let redisUrl = a[F.redisUrl];
    try {
      agent = { ...agentCommand(a), passEnv: a[F.agentEnv] };
      isolation = resolveIsolation(a[F.isolation], a[F.uidBase]);
      const file = a[F.redisUrlFile];
      if (file) redisUrl = await readSecretFile(`--${F.redisUrlFile}`, file);
    } catch (e) {
      return fail((e as Error).message);
    }
    const metadataUri = process.env.ECS_CONTAINER_METADATA_URI_V4;
    scrubEnvironment();
    const extra = extraCapabilities();
    if (isolation.mode === "per-user" && extra.length)
      logger.warn(
        { capabilities: extra },
        "the bridge holds capabilities it does not need (it needs CHOWN, KILL, SETGID, SETUID only)",
      );
    const stop = new AbortController();
    const onSignal = (): void => stop.abort();
    process.once("SIGTERM", onSignal);
    process.once("SIGINT", onSignal);
    const code = await runBridge(
      {
        pool: a[F.pool],
        redisUrl,
        workspaceRoot: a[F.root],
        agent,
        taskArn: a[F.taskArn],
        metadataUri,
        listenHost: a[F.listenHost],
        port: a[F.port],
        advertiseHost: a[F.advertiseHost],
        userIdPattern: userIdPattern(a[F.userIdPattern]),
        isolation,
        stopGraceMs: a[F.stopGrace],
        logger,
      },
      stop.signal,
    );
    process.exit(code);
  },
};

/** The words after `--` (as a task definition's `command` gives them) win over --agent-command. */
function agentCommand(a: Args): AgentSpec {
  const i = process.argv.indexOf("--");
  const after = i >= 0 ? process.argv.slice(i + 1) : [];
  if (after.length) {
    const [command, ...args] = after;
    return { command: command!, args };
  }
  return parseAgentCommand(a[F.agent]);
}
