/**
 * One chaos world: a private redis-server, the ECS emulator over HTTP, a registered task
 * definition, and the pool's processes as the built CLI runs them (`warmpool reconciler`,
 * `warmpool gateway`, and — with `bridges: "real"` — `warmpool bridge` inside every emulated
 * task). With `bridges: "stand-in"` the tasks' side of the protocol is spoken in-process through
 * the real register and ready scripts (TaskChannel), which survives a Redis outage by retrying.
 * Needs `npx tsc -p .` first (processes run dist/cmd/warmpool.js).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ECSClient, RegisterTaskDefinitionCommand } from "@aws-sdk/client-ecs";
import { Redis } from "ioredis";
import { startEmulator, type Emulator, type EmulatorOptions } from "../../hack/emulator/index.js";
import { ClaimKeys, TaskChannel } from "../../pkg/claims/index.js";
import { cliEntry, packageRoot } from "../../pkg/util/index.js";
import {
  freePort,
  recordStates,
  startPrivateRedis,
  uniquePool,
  waitFor,
  type PrivateRedis,
} from "../harness/index.js";
import { sleep } from "./mode.js";

process.env.AWS_ACCESS_KEY_ID ||= "test";
process.env.AWS_SECRET_ACCESS_KEY ||= "test";
process.env.AWS_REGION ||= "us-east-1";

export const FAMILY = "warmpool-chaos";
export const GATEWAY_TOKEN = "chaos-token-0123456789abcdef";

export interface ChaosOptions {
  /** Who registers RUNNING tasks: real bridge processes, the in-process stand-in, or nobody. */
  bridges?: "real" | "stand-in" | "none";
  /** Agent command of real bridges (default: `exec cat`, a session that lasts until released). */
  agent?: string[];
  emulator?: EmulatorOptions;
  /** Extra redis-server arguments (e.g. AOF so a restart keeps the data). */
  redisArgs?: string[];
}

export interface Child {
  child: ChildProcess;
  pid: number;
  exited: Promise<number | null>;
  stderr(): string;
}

export interface ReconcilerChild extends Child {
  metricsUrl: string;
}

export interface GatewayChild extends Child {
  url: string;
  /** `/metrics` on the gateway's own metrics port. */
  metricsUrl: string;
}

export interface ChaosWorld {
  redisServer: PrivateRedis;
  redis: Redis;
  emu: Emulator;
  pool: string;
  keys: ClaimKeys;
  taskDefinitionArn: string;
  /** Records in Redis by state. */
  states(): Promise<Record<string, number>>;
  /** Pool tasks ECS still runs (desired RUNNING), from the emulator's ground truth. */
  live(): ReturnType<Emulator["control"]["tasks"]>;
  launches(): ReturnType<Emulator["control"]["tasks"]>;
  setDesired(d: Record<string, unknown>): Promise<void>;
  spawnReconciler(extra?: Record<string, string>): Promise<ReconcilerChild>;
  spawnGateway(extra?: string[]): Promise<GatewayChild>;
  /** PID of the reconciler holding the lease, from the `leader` key. */
  leaderPid(): Promise<number | undefined>;
  close(): Promise<void>;
}

function inheritedEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env))
    if (v !== undefined && !k.startsWith("WARMPOOL_")) env[k] = v;
  return env;
}

function track(child: ChildProcess): Child {
  let err = "";
  child.stderr?.on("data", (d: Buffer) => {
    err = (err + d.toString()).slice(-20_000);
  });
  const exited = new Promise<number | null>((resolve) => {
    if (child.exitCode !== null) resolve(child.exitCode);
    else child.once("exit", (code, sig) => resolve(code ?? (sig ? -1 : null)));
  });
  return { child, pid: child.pid ?? -1, exited, stderr: () => err };
}

export async function startChaosWorld(o: ChaosOptions = {}): Promise<ChaosWorld> {
  if (!existsSync(join(packageRoot(), "dist", "cmd", "warmpool.js"))) {
    throw new Error("dist/ is missing: run `npx tsc -p .` first");
  }
  const bridges = o.bridges ?? "stand-in";
  const redisServer = await startPrivateRedis(o.redisArgs ? { extraArgs: o.redisArgs } : {});
  const redis = new Redis(redisServer.url, { maxRetriesPerRequest: 1, enableOfflineQueue: false });
  redis.on("error", () => undefined);
  await waitFor("redis client", () => redis.status === "ready");
  const pool = uniquePool("chaos");
  const keys = new ClaimKeys(pool);
  const root = mkdtempSync(join(tmpdir(), "wp-chaos-"));
  const emu = await startEmulator({
    timeScale: 0.01,
    ...(bridges === "real"
      ? { taskProcess: { command: process.execPath, args: [cliEntry(), "bridge"] } }
      : {}),
    // ECS task state changes → the queue the reconciler's event feed reads (WP_TEST_FEED=off
    // runs the reconciler without it, from Redis, its own writes and relists).
    eventRules: [{ name: "chaos-feed", queueName: "ecs-events", clusters: ["default"] }],
    ...o.emulator,
  });
  const feedUrl = emu.control.queues().find((q) => q.name === "ecs-events")?.url;
  const feedOn = process.env.WP_TEST_FEED !== "off" && process.env.WP_TEST_OBSERVE !== "list";
  const ecs = new ECSClient({ endpoint: emu.endpoint, region: "us-east-1", maxAttempts: 1 });
  const env = [
    { name: "WARMPOOL_POOL", value: pool },
    { name: "WARMPOOL_REDIS_URL", value: redisServer.url },
    { name: "WARMPOOL_WORKSPACE_ROOT", value: root },
    { name: "WARMPOOL_AGENT_COMMAND", value: JSON.stringify(o.agent ?? ["sh", "-c", "exec cat"]) },
    { name: "WARMPOOL_STOP_GRACE_MS", value: "500" },
  ];
  const td = await ecs.send(
    new RegisterTaskDefinitionCommand({
      family: FAMILY,
      containerDefinitions: [
        { name: "bridge", image: "ecs-warmpool:chaos", essential: true, memory: 128, environment: env },
      ],
    }),
  );
  ecs.destroy();
  const taskDefinitionArn = td.taskDefinition!.taskDefinitionArn!;
  const children: Child[] = [];
  const mine = () => emu.control.tasks().filter((t) => t.startedBy === pool);
  const standIn = bridges === "stand-in" ? startStandInBridges(redisServer.url, pool, mine) : undefined;

  const spawnCli = (args: string[], envExtra: Record<string, string>): Child => {
    const c = track(
      spawn(process.execPath, [cliEntry(), ...args], {
        env: { ...inheritedEnv(), ...envExtra },
        stdio: ["ignore", "ignore", "pipe"],
      }),
    );
    children.push(c);
    return c;
  };

  return {
    redisServer,
    redis,
    emu,
    pool,
    keys,
    taskDefinitionArn,
    states: () => recordStates(redis, keys),
    live: () => mine().filter((t) => t.desiredStatus === "RUNNING"),
    launches: mine,
    async setDesired(d) {
      await redis.set(keys.config, JSON.stringify(d));
    },
    async spawnReconciler(extra = {}) {
      const metricsPort = await freePort();
      const flags: Record<string, string> = {
        pool,
        cluster: "default",
        "task-definition": FAMILY,
        "redis-url": redisServer.url,
        "endpoint-url": emu.endpoint,
        "resync-interval": "500ms",
        "lease-ttl": "2s",
        "metrics-port": String(metricsPort),
        "log-level": "warn",
        observe: process.env.WP_TEST_OBSERVE ?? "cache",
        ...(feedOn && feedUrl ? { "feed-queue-url": feedUrl, "feed-wait": "1" } : {}),
        "relist-interval": "2s",
        "in-doubt-grace": "1s",
        ...extra,
      };
      const envFlags: Record<string, string> = {};
      for (const [k, v] of Object.entries(flags))
        envFlags[`WARMPOOL_${k.toUpperCase().replace(/-/g, "_")}`] = v;
      const c = spawnCli(["reconciler"], envFlags);
      return { ...c, metricsUrl: `http://127.0.0.1:${metricsPort}/metrics` };
    },
    async spawnGateway(extra = []) {
      const c = await spawnGateway(redisServer.url, pool, extra);
      children.push(c);
      return c;
    },
    async leaderPid() {
      const id = await redis.get(keys.leader).catch(() => null);
      return id ? Number(id.split(":")[1]) : undefined;
    },
    async close() {
      await standIn?.stop();
      for (const c of children)
        if (c.child.exitCode === null && c.child.signalCode === null) c.child.kill("SIGKILL");
      await Promise.all(children.map((c) => c.exited));
      await emu.stop();
      redis.disconnect();
      await redisServer.stop();
      rmSync(root, { recursive: true, force: true });
    },
  };
}

/** `warmpool gateway` on a free port against `redisUrl`; resolves once /healthz answers. */
export async function spawnGateway(
  redisUrl: string,
  pool: string,
  extra: string[] = [],
): Promise<GatewayChild> {
  const port = await freePort();
  const metricsPort = await freePort();
  const c = track(
    spawn(
      process.execPath,
      [
        cliEntry(),
        "gateway",
        "--pool",
        pool,
        "--redis-url",
        redisUrl,
        "--port",
        String(port),
        // Defaults for what `extra` does not name (a flag given twice becomes an array).
        ...(extra.includes("--ready-timeout-ms") ? [] : ["--ready-timeout-ms", "5000"]),
        // Metrics on a free port of their own (the flag's default, 9464, may be taken here).
        "--metrics-port",
        String(metricsPort),
        "--retry-after-seconds",
        "1",
        ...extra,
      ],
      {
        env: { ...inheritedEnv(), WARMPOOL_GATEWAY_TOKENS: GATEWAY_TOKEN },
        stdio: ["ignore", "ignore", "pipe"],
      },
    ),
  );
  const url = `http://127.0.0.1:${port}`;
  await waitFor(
    "gateway /healthz",
    async () => {
      if (c.child.exitCode !== null) throw new Error(`gateway exited: ${c.stderr()}`);
      return (await fetch(`${url}/healthz`)).ok;
    },
    20_000,
    50,
  );
  return { ...c, url, metricsUrl: `http://127.0.0.1:${metricsPort}/metrics` };
}

/**
 * The tasks' side of the protocol without a process per task: registers RUNNING tasks warm and
 * answers every claim's init_user with a ready report, through the real scripts. Errors (Redis
 * away) are retried, as a bridge's reconnecting client would.
 */
function startStandInBridges(
  url: string,
  pool: string,
  tasks: () => ReturnType<Emulator["control"]["tasks"]>,
): { stop(): Promise<void> } {
  const keys = new ClaimKeys(pool);
  const opts = { maxRetriesPerRequest: 1, enableOfflineQueue: false, retryStrategy: () => 100 };
  const redis = new Redis(url, opts);
  const blocking = new Redis(url, opts);
  redis.on("error", () => undefined);
  blocking.on("error", () => undefined);
  const registered = new Set<string>();
  let stopped = false;
  const register = (async () => {
    while (!stopped) {
      for (const t of tasks()) {
        if (t.lastStatus !== "RUNNING" || t.desiredStatus !== "RUNNING" || registered.has(t.taskId)) continue;
        const ch = new TaskChannel(redis, pool, t.taskId);
        try {
          const r = await ch.register({
            taskArn: t.taskArn,
            revision: t.taskDefinitionArn,
            endpoint: "127.0.0.1:9",
            token: randomBytes(8).toString("hex"),
          });
          registered.add(t.taskId);
          if (r.outcome === "claimed") await ch.reportReady(r.claimId).catch(() => undefined);
        } catch {
          break; // Redis away: try again next round
        }
      }
      await sleep(40);
    }
  })();
  const respond = (async () => {
    let last = "$";
    while (!stopped) {
      try {
        if (last === "$") {
          const tail = await redis.xrevrange(keys.events, "+", "-", "COUNT", 1);
          last = tail[0]?.[0] ?? "0-0";
        }
        const res = (await blocking.xread("COUNT", 500, "BLOCK", 500, "STREAMS", keys.events, last)) as
          [string, [string, string[]][]][] | null;
        for (const [id, fields] of res?.[0]?.[1] ?? []) {
          last = id;
          const f: Record<string, string> = {};
          for (let i = 0; i + 1 < fields.length; i += 2) f[fields[i]!] = fields[i + 1]!;
          if (f.type === "claim" && f.taskId && f.claimId) {
            await new TaskChannel(redis, pool, f.taskId).reportReady(f.claimId);
            await redis.del(keys.inbox(f.taskId));
          }
        }
      } catch {
        await sleep(100);
      }
    }
  })();
  return {
    async stop() {
      stopped = true;
      await register;
      blocking.disconnect();
      await respond;
      redis.disconnect();
    },
  };
}
