/**
 * `warmpool dev`: the embedded default. Everything on one machine — a private redis-server (unless
 * REDIS_URL / --redis-url names one), the ECS emulator whose tasks are real local `warmpool
 * bridge` processes, the reconciler and the gateway in this process, a small traffic generator —
 * and a live view of the pool converging. Ctrl-C stops all of it and leaves no process behind.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ECSClient, RegisterTaskDefinitionCommand } from "@aws-sdk/client-ecs";
import type { CommandModule } from "yargs";
import { startEmulator, type Emulator } from "../hack/emulator/index.js";
import { startPrivateRedis, type PrivateRedis } from "../hack/redis/private-redis.js";
import { localBridgeLaunch } from "../pkg/bridge/index.js";
import { GatewayError, WarmpoolClient } from "../pkg/client/index.js";
import type { RedisRole } from "../pkg/redis/index.js";
import { runGateway } from "../pkg/gateway/index.js";
import { createLogger } from "../pkg/log/index.js";
import { buildConfig, startReconcilerProcess, type ReconcilerProcess } from "../pkg/reconciler/index.js";
import { cliEntry } from "../pkg/util/index.js";

/** The emulator's queue for ECS task state change events in `warmpool dev`. */
const DEV_FEED_QUEUE = "warmpool-dev-events";

const F = {
  pool: "pool",
  redisUrl: "redis-url",
  timeScale: "time-scale",
  metricsPort: "metrics-port",
  gatewayPort: "gateway-port",
  traffic: "traffic",
  agent: "agent-command",
  logLevel: "log-level",
  taskOutput: "task-output",
} as const;

interface Args {
  [F.pool]: string;
  [F.redisUrl]?: string;
  [F.timeScale]: number;
  [F.metricsPort]: number;
  [F.gatewayPort]: number;
  [F.traffic]: number;
  [F.agent]: string;
  [F.logLevel]: string;
  [F.taskOutput]: "inherit" | "ignore";
}

const DEV_TOKEN = "warmpool-dev-token";
const FAMILY = "warmpool-dev";

export const devCommand: CommandModule<object, Args> = {
  command: "dev",
  describe:
    "run everything locally: redis, an ECS emulator with real bridge tasks, reconciler, gateway, traffic",
  builder: (y) =>
    y
      .option(F.pool, { type: "string", default: "dev", describe: "pool name" })
      .option(F.redisUrl, {
        type: "string",
        describe: "use this Redis (also REDIS_URL); default: a private redis-server",
      })
      .option(F.timeScale, {
        type: "number",
        default: 0.2,
        describe: "emulator task latencies × this (1 = real ECS speed)",
      })
      .option(F.metricsPort, {
        type: "number",
        default: 9464,
        describe: "reconciler /metrics, /healthz, /readyz, /status (0 = free port)",
      })
      .option(F.gatewayPort, { type: "number", default: 8080, describe: "gateway port (0 = free port)" })
      .option(F.traffic, {
        type: "number",
        default: 12,
        describe: "claims per minute from the traffic generator (0 = none)",
      })
      .option(F.agent, {
        type: "string",
        default: '["/bin/sh","-i"]',
        describe: "agent the bridges start for a user",
      })
      .option(F.logLevel, {
        type: "string",
        default: "warn",
        describe: "log level of the embedded components",
      })
      .option(F.taskOutput, {
        type: "string",
        choices: ["inherit", "ignore"] as const,
        default: "ignore" as const,
        describe: "where the task (bridge) processes' output goes",
      })
      .example("$0 dev", "start everything; then curl the gateway it prints")
      .example(
        "REDIS_URL=redis://127.0.0.1:6380 $0 dev --traffic 0",
        "use an existing Redis, no generated claims",
      ),
  handler: async (a) => {
    process.env.AWS_ACCESS_KEY_ID ||= "dev";
    process.env.AWS_SECRET_ACCESS_KEY ||= "dev";
    const stack: (() => Promise<void>)[] = [];
    let stopping = false;
    const shutdown = async (code: number): Promise<never> => {
      if (!stopping) {
        stopping = true;
        console.log("\nstopping: traffic, gateway, reconciler, emulator tasks, redis …");
        for (const undo of stack.reverse()) await undo().catch((e: unknown) => console.error(String(e)));
      }
      process.exit(code);
    };
    process.once("SIGINT", () => void shutdown(0));
    process.once("SIGTERM", () => void shutdown(0));
    try {
      await run(a, stack);
    } catch (err) {
      console.error(`warmpool dev: ${(err as Error).message}`);
      await shutdown(1);
    }
  },
};

async function run(a: Args, stack: (() => Promise<void>)[]): Promise<void> {
  // A private redis-server runs with the production ACL (docs/redis-acl.md): each process on its own
  // user. A Redis given by URL is used as is, by every process.
  const given = a[F.redisUrl] ?? process.env.REDIS_URL;
  let urlFor: (role: RedisRole) => string = () => given ?? "";
  if (!given) {
    const redis: PrivateRedis = await startPrivateRedis({ acl: { pool: a[F.pool] } });
    stack.push(() => redis.stop());
    urlFor = (role) => redis.urlFor(role);
  }
  const redisUrl = urlFor("ctl");
  const workspaces = mkdtempSync(join(tmpdir(), "warmpool-dev-ws-"));
  stack.push(async () => rmSync(workspaces, { recursive: true, force: true }));

  const bridge = localBridgeLaunch([process.execPath, cliEntry(), "bridge"]);
  const emu: Emulator = await startEmulator({
    timeScale: a[F.timeScale],
    taskProcess: { command: bridge.command, args: bridge.args, stdio: a[F.taskOutput] },
    // EventBridge's rule for the cluster's task state changes → the queue the reconciler reads.
    eventRules: [{ name: "warmpool-dev-feed", queueName: DEV_FEED_QUEUE, clusters: ["default"] }],
  });
  stack.push(() => emu.stop());
  const ecs = new ECSClient({ endpoint: emu.endpoint, region: emu.region });
  const env = {
    WARMPOOL_POOL: a[F.pool],
    WARMPOOL_REDIS_URL: urlFor("bridge"),
    WARMPOOL_WORKSPACE_ROOT: workspaces,
    WARMPOOL_AGENT_COMMAND: a[F.agent],
    WARMPOOL_LISTEN_HOST: "127.0.0.1",
  };
  const td = await ecs.send(
    new RegisterTaskDefinitionCommand({
      family: FAMILY,
      containerDefinitions: [
        {
          name: "agent",
          image: "warmpool/agent:dev",
          essential: true,
          memory: 512,
          environment: Object.entries(env).map(([name, value]) => ({ name, value })),
        },
      ],
    }),
  );
  ecs.destroy();

  const log = createLogger({
    level: a[F.logLevel] as "warn",
    bindings: { component: "reconciler", pool: a[F.pool] },
  });
  const rec: ReconcilerProcess = await startReconcilerProcess(
    buildConfig({
      pool: a[F.pool],
      cluster: "default",
      "task-definition": FAMILY,
      "redis-url": urlFor("reconciler"),
      "endpoint-url": emu.endpoint,
      // The event feed, as production runs it (issue 14): passes plan from the cache.
      "feed-queue-url": emu.control.queues().find((q) => q.name === DEV_FEED_QUEUE)?.url,
      "relist-interval": "1m",
      "resync-interval": "2s",
      "lease-ttl": "5s",
      "metrics-port": a[F.metricsPort],
      "log-level": a[F.logLevel],
    }),
    { log, host: "127.0.0.1" },
  );
  stack.push(() => rec.stop());

  const gw = await runGateway({
    pool: a[F.pool],
    redisUrl: urlFor("gateway"),
    host: "127.0.0.1",
    port: a[F.gatewayPort],
    tokens: DEV_TOKEN,
    defaultLeaseSeconds: 120,
    defaultWaitMs: 30_000,
    maxWaitMs: 300_000,
    readyTimeoutMs: 15_000,
    retryAfterSeconds: 2,
  });
  stack.push(() => gw.close());

  console.log(
    [
      "warmpool dev is running (Ctrl-C stops everything)",
      `  redis       ${redisUrl}   (the ctl user; each process has its own: docs/redis-acl.md)`,
      `  ECS         ${emu.endpoint}   (aws --endpoint-url ${emu.endpoint} ecs list-tasks --started-by ${a[F.pool]})`,
      `  task def    ${td.taskDefinition?.taskDefinitionArn ?? FAMILY} — each task runs \`warmpool bridge\``,
      `  isolation   ${bridge.note}`,
      `  reconciler  ${rec.ops.url}/metrics  ${rec.ops.url}/status  ${rec.ops.url}/readyz`,
      `  gateway     ${gw.url}   token: ${DEV_TOKEN}`,
      `  claim one:  curl -s -X POST -H 'authorization: Bearer ${DEV_TOKEN}' -H 'content-type: application/json' \\`,
      `                -d '{"userId":"alice"}' ${gw.url}/v1/claims`,
      `  desired:    redis-cli -u ${redisUrl} SET 'wp:{${a[F.pool]}}:config' '{"minWarm":8,"maxWarm":20}'`,
      "",
    ].join("\n"),
  );

  const view = setInterval(() => printPool(rec, emu, a[F.pool]), 500);
  stack.push(async () => clearInterval(view));
  if (a[F.traffic] > 0) {
    const stop = startTraffic(gw.url, a[F.traffic]);
    stack.push(stop);
  }
}

let lastLine = "";
/** One line whenever the pool changes: the reconciler's counts and the emulator's ground truth. */
function printPool(rec: ReconcilerProcess, emu: Emulator, pool: string): void {
  const s = rec.reconciler.snapshot();
  const c = s.counts;
  if (!c) return;
  const tasks = emu.control.tasks().filter((t) => t.startedBy === pool);
  const running = tasks.filter((t) => t.lastStatus === "RUNNING").length;
  const line =
    `pool ${pool}: starting ${c.starting} · warm ${c.warm} · claimed ${c.claimed} · draining ${c.draining}` +
    ` · waiting ${c.waiting} | target ${s.target ?? "?"} | ECS: ${running} running, ${tasks.length} launched` +
    `${s.config.valid ? "" : " | CONFIG REJECTED: " + (s.config.lastRejection ?? "")}`;
  if (line === lastLine) return;
  lastLine = line;
  console.log(`${new Date().toISOString().slice(11, 19)} ${line}`);
}

/** Claims at `perMinute`, each held a few seconds then released, as users opening sessions would. */
function startTraffic(gateway: string, perMinute: number): () => Promise<void> {
  let n = 0;
  const inflight = new Set<Promise<void>>();
  const client = new WarmpoolClient({ baseUrl: gateway, token: DEV_TOKEN, claimAttempts: 1 });
  const one = async (): Promise<void> => {
    const userId = `dev-user-${++n}`;
    const t0 = performance.now();
    const claim = await client.claim({ userId, waitMs: 30_000, leaseSeconds: 60 }).catch((e: unknown) => {
      const why = e instanceof GatewayError ? `${e.status} ${e.problem.detail}` : String(e);
      console.log(`  traffic: claim for ${userId} → ${why} (${Math.round(performance.now() - t0)} ms)`);
    });
    if (!claim) return;
    const ms = Math.round(performance.now() - t0);
    console.log(`  traffic: ${userId} got task ${claim.taskId} (${claim.warm ? "warm" : "cold"}, ${ms} ms)`);
    await new Promise((r) => setTimeout(r, 3_000 + Math.random() * 7_000));
    await client.release(claim.claimId).catch(() => undefined);
  };
  const timer = setInterval(() => {
    const p = one()
      .catch((e: unknown) => console.log(`  traffic: ${String(e)}`))
      .finally(() => inflight.delete(p));
    inflight.add(p);
  }, 60_000 / perMinute);
  return async () => {
    clearInterval(timer);
    await Promise.race([Promise.allSettled(inflight), new Promise((r) => setTimeout(r, 1_000))]);
  };
}
