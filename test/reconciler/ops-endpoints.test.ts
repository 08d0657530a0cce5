/**
 * The reconciler's operations port as a real `warmpool reconciler` process serves it (built CLI),
 * against a private redis-server and the ECS emulator over HTTP:
 *
 * - `/status`: the documented shape (docs/reconciler.md "Status"), equal to the `status` key the
 *   leader writes, and its figures equal to ground truth (leader key and epoch in Redis, the
 *   tasks the emulator launched, the resolved task definition); a rejected desired state shows;
 * - `/readyz`: 200 with its detail while Redis is a writable primary, 503 naming `redis` while the
 *   server is a read-only replica, 200 again after (a rejected desired state keeps it ready: the
 *   last good one is in force);
 * - `/healthz`: liveness of the process — 200 whatever Redis does (a restart would not mend Redis),
 *   and the container health check (deploy/docker/healthcheck.mjs) fails while the process is
 *   wedged (SIGSTOP) and passes again once it runs;
 * - unknown paths 404 with the route list, other methods 405.
 * Needs `npx tsc -p .` first.
 */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import { ECSClient, RegisterTaskDefinitionCommand } from "@aws-sdk/client-ecs";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEmulator, type Emulator } from "../../hack/emulator/index.js";
import { PoolKeys } from "../../pkg/keys/index.js";
import type { StatusSnapshot } from "../../pkg/reconciler/index.js";
import { cliEntry, packageRoot } from "../../pkg/util/index.js";
import { freePort, startPrivateRedis, uniquePool, waitFor, type PrivateRedis } from "../harness/index.js";

process.env.AWS_ACCESS_KEY_ID ||= "test";
process.env.AWS_SECRET_ACCESS_KEY ||= "test";
process.env.AWS_REGION ||= "us-east-1";

let server: PrivateRedis;
let redis: Redis;
let emu: Emulator;
let child: ChildProcess;
let stderr = "";
let ops: string;
let pool: string;
let keys: PoolKeys;
let tdArn: string;

const get = async <T = Record<string, unknown>>(path: string, init?: RequestInit) => {
  const res = await fetch(`${ops}${path}`, { ...init, signal: AbortSignal.timeout(5_000) });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text) as unknown;
  } catch {
    // not JSON (/metrics)
  }
  return { status: res.status, type: res.headers.get("content-type"), body: body as T };
};
const healthcheck = (url: string): Promise<{ code: number; stderr: string }> =>
  new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(packageRoot(), "deploy", "docker", "healthcheck.mjs"), url],
      { timeout: 20_000 },
      (err, _out, errOut) =>
        resolve({ code: err ? (typeof err.code === "number" ? err.code : -1) : 0, stderr: errOut }),
    );
  });

beforeAll(async () => {
  server = await startPrivateRedis();
  redis = new Redis(server.url);
  emu = await startEmulator({ timeScale: 0.01 });
  const ecs = new ECSClient({ endpoint: emu.endpoint, region: "us-east-1", maxAttempts: 1 });
  tdArn = (
    await ecs.send(
      new RegisterTaskDefinitionCommand({
        family: "ops-endpoints",
        containerDefinitions: [{ name: "agent", image: "warmpool/agent:test", essential: true, memory: 128 }],
      }),
    )
  ).taskDefinition!.taskDefinitionArn!;
  ecs.destroy();
  pool = uniquePool("ops");
  keys = new PoolKeys(pool);
  await redis.set(
    keys.config,
    JSON.stringify({ minWarm: 2, maxWarm: 4, replenishThreshold: 1, maxTasks: 10 }),
  );
  const port = await freePort();
  ops = `http://127.0.0.1:${port}`;
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env))
    if (v !== undefined && !k.startsWith("WARMPOOL_")) env[k] = v;
  child = spawn(
    process.execPath,
    [
      cliEntry(),
      "reconciler",
      "--pool",
      pool,
      "--cluster",
      "default",
      "--task-definition",
      "ops-endpoints",
      "--redis-url",
      server.url,
      "--endpoint-url",
      emu.endpoint,
      "--metrics-port",
      String(port),
      "--resync-interval",
      "500ms",
      "--lease-ttl",
      "2s",
      "--log-level",
      "warn",
    ],
    { env, stdio: ["ignore", "ignore", "pipe"] },
  );
  child.stderr!.on("data", (d: Buffer) => (stderr = (stderr + d.toString()).slice(-20_000)));
  await waitFor(
    `the reconciler's ops port (stderr: ${stderr})`,
    async () => (await get("/healthz").catch(() => ({ status: 0 }))).status === 200,
    60_000,
    200,
  );
}, 120_000);

afterAll(async () => {
  if (child && child.exitCode === null) {
    child.kill("SIGCONT");
    child.kill("SIGKILL");
  }
  await emu?.stop();
  redis?.disconnect();
  await server?.stop();
});

describe("reconciler process: /status, /readyz, /healthz", { timeout: 120_000 }, () => {
  it("/status has the documented shape, equals the status key, and its figures are ground truth", async () => {
    // Two tasks launched (no bridge registers them: they stay starting).
    const mine = () => emu.control.tasks().filter((t) => t.startedBy === pool);
    await waitFor("the target launched", () => mine().length === 2, 30_000);
    await waitFor(
      "/status counted them",
      async () => {
        const s = (await get<StatusSnapshot>("/status")).body;
        return s.counts && s.counts.starting + s.counts.expected + s.counts.warm === 2;
      },
      30_000,
    );
    const s = await get<StatusSnapshot>("/status");
    expect(s.status).toBe(200);
    expect(s.type).toBe("application/json");
    const st = s.body;
    expect(Object.keys(st)).toEqual(
      expect.arrayContaining([
        "pool",
        "leader",
        "updatedAtMs",
        "counts",
        "target",
        "desired",
        "config",
        "lastPass",
        "lastErrors",
        "runFailures",
        "revision",
        "drain",
        "adaptive",
        "observe",
      ]),
    );
    expect(st.pool).toBe(pool);
    // The leader is the one the lease key names, in the term the epoch key counts.
    expect(st.leader.id).toBe(await redis.get(keys.leader));
    expect(st.leader.epoch).toBe(Number(await redis.get(keys.epoch)));
    expect(st.leader.id).toContain(`:${child.pid}:`);
    expect(st.target).toBe(2);
    expect(st.desired).toMatchObject({ minWarm: 2, maxWarm: 4, replenishThreshold: 1, maxTasks: 10 });
    expect(st.config).toEqual({ status: "valid", valid: true, lastRejection: null });
    expect(st.revision).toBe(tdArn);
    expect(st.drain).toBeNull();
    expect(st.adaptive).toBeNull();
    expect(st.lastErrors).toEqual([]);
    expect(st.lastPass).toMatchObject({ result: "ok", ecsCalls: expect.any(Object) as unknown });
    const pass = st.lastPass!;
    expect(["event", "resync", "start"]).toContain(pass.trigger);
    expect(typeof pass.id).toBe("number");
    expect(st.observe).toMatchObject({ mode: "cache", feed: null });
    // Every launched task is counted, and nothing else: ground truth is the emulator's.
    const c = st.counts!;
    expect(c.starting + c.expected + c.warm + c.claimed).toBe(mine().length);
    expect(c.total).toBe(mine().length);
    // The snapshot `ctl status` reads from Redis is this one (between two passes they are equal).
    await waitFor(
      "GET /status equal to the status key",
      async () => {
        const [http, key] = [(await get<StatusSnapshot>("/status")).body, await redis.get(keys.status)];
        return key !== null && JSON.stringify(http) === JSON.stringify(JSON.parse(key));
      },
      15_000,
      50,
    );
    // Passes go on: the snapshot moves.
    const first = pass.id;
    await waitFor(
      "a later pass",
      async () => ((await get<StatusSnapshot>("/status")).body.lastPass?.id ?? 0) > first,
      15_000,
    );
  });

  it("a rejected desired state shows in /status, and /readyz stays ready on the last good one", async () => {
    await redis.set(
      keys.config,
      JSON.stringify({ minwarm: 3, maxWarm: 4, replenishThreshold: 1, maxTasks: 10 }),
    );
    try {
      await waitFor(
        "the rejection in /status",
        async () => (await get<StatusSnapshot>("/status")).body.config.valid === false,
        15_000,
      );
      const st = (await get<StatusSnapshot>("/status")).body;
      expect(st.config.status).toBe("invalid");
      expect(st.config.lastRejection).toMatch(/minwarm/);
      expect(st.desired).toMatchObject({ minWarm: 2 }); // the last good one stays in force
      expect(st.target).toBe(2);
      const r = await get("/readyz");
      expect(r.status).toBe(200);
      expect(r.body).toMatchObject({ ok: true, detail: { redis: true, desiredState: true, leader: true } });
    } finally {
      await redis.set(
        keys.config,
        JSON.stringify({ minWarm: 2, maxWarm: 4, replenishThreshold: 1, maxTasks: 10 }),
      );
    }
    await waitFor(
      "valid again",
      async () => (await get<StatusSnapshot>("/status")).body.config.valid === true,
      15_000,
    );
  });

  it("/readyz is 503 naming redis while Redis is a read-only replica, /healthz stays 200; both recover", async () => {
    expect(await get("/readyz")).toMatchObject({
      status: 200,
      body: { ok: true, detail: { redis: true, desiredState: true, leader: true } },
    });
    expect(await get("/healthz")).toMatchObject({ status: 200, body: { ok: true } });
    await redis.call("REPLICAOF", "127.0.0.1", "1");
    try {
      await waitFor("/readyz 503", async () => (await get("/readyz")).status === 503, 15_000, 100);
      const r = await get("/readyz");
      expect(r.body).toMatchObject({ ok: false, detail: { redis: false } });
      expect(await get("/healthz")).toMatchObject({ status: 200, body: { ok: true } });
    } finally {
      await redis.call("REPLICAOF", "NO", "ONE");
    }
    await waitFor("/readyz 200 again", async () => (await get("/readyz")).status === 200, 20_000, 100);
  });

  it("/healthz is the process's liveness: the container health check fails while it is wedged", async () => {
    const url = `${ops}/healthz`;
    expect(await healthcheck(url)).toMatchObject({ code: 0 });
    child.kill("SIGSTOP"); // the process no longer runs: its event loop cannot answer
    try {
      const r = await healthcheck(url);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/unhealthy/);
    } finally {
      child.kill("SIGCONT");
    }
    expect(await healthcheck(url)).toMatchObject({ code: 0 });
  });

  it("/metrics is Prometheus text; an unknown path is 404 with the routes; POST is 405", async () => {
    const m = await get("/metrics");
    expect(m.status).toBe(200);
    expect(m.type).toMatch(/^text\/plain/);
    expect(String(m.body)).toMatch(new RegExp(`warmpool_leader\\{pool="${pool}"\\} 1`));
    expect(await get("/nope")).toMatchObject({
      status: 404,
      body: { routes: ["/metrics", "/healthz", "/readyz", "/status"] },
    });
    expect((await get("/status", { method: "POST" })).status).toBe(405);
  });
});
