/**
 * `ctl status` with no `--pool` (or `--all-pools`): every registered pool, one line each, against
 * live pools — a real reconciler process serving two of three registered pools (`--pools a,b`,
 * the fleet wiring), the ECS emulator over HTTP, stand-in bridges registering through the real
 * register script, a real claim. Every count is compared with Redis (task records) and the
 * emulator; the third pool, which no reconciler serves, is what makes the overview unhealthy.
 */
import { Redis } from "ioredis";
import { Registry } from "prom-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Emulator } from "../../hack/emulator/index.js";
import { ClaimService } from "../../pkg/claims/index.js";
import type { AllPoolsReport } from "../../pkg/ctl/index.js";
import { PoolKeys } from "../../pkg/keys/index.js";
import { createLogger } from "../../pkg/log/index.js";
import { createMetrics } from "../../pkg/metrics/index.js";
import { PoolRegistry } from "../../pkg/pools/index.js";
import { buildConfig, startFleetProcess, type FleetProcess } from "../../pkg/reconciler/index.js";
import { recordStates, startPrivateRedis, uniquePool, waitFor, type PrivateRedis } from "../harness/index.js";
import { startReadyResponder, type ReadyResponder } from "../claims/stand-in.js";
import { FAMILY, startTestEmulator } from "../ecs/env.js";
import { registerRunningTasks } from "../fleet/bridge-stand-in.js";
import { ctl } from "./env.js";

describe("ctl status over every registered pool", () => {
  let server: PrivateRedis;
  let redis: Redis;
  let emu: Emulator;
  let proc: FleetProcess | undefined;
  let stopBridges = (): void => undefined;
  let responder: ReadyResponder | undefined;
  let claims: ClaimService | undefined;
  const a = uniquePool("sa");
  const b = uniquePool("sb");
  const orphan = uniquePool("sz"); // registered, served by no reconciler

  beforeAll(async () => {
    server = await startPrivateRedis();
    redis = new Redis(server.url, { maxRetriesPerRequest: 1 });
    redis.on("error", () => undefined);
    ({ emu } = await startTestEmulator({}));
    const reg = new PoolRegistry(redis);
    for (const p of [a, b, orphan]) await reg.create(p, { who: "test" });
    await redis.set(
      new PoolKeys(a).config,
      JSON.stringify({ minWarm: 3, maxWarm: 6, replenishThreshold: 1 }),
    );
    await redis.set(
      new PoolKeys(b).config,
      JSON.stringify({ minWarm: 2, maxWarm: 6, replenishThreshold: 1 }),
    );
    stopBridges = registerRunningTasks(emu, redis);
    const cfg = buildConfig({
      pools: `${a},${b}`,
      cluster: "default",
      "task-definition": FAMILY,
      "redis-url": server.url,
      "endpoint-url": emu.endpoint,
      "resync-interval": "500ms",
      "lease-ttl": "3s",
      "fleet-ttl": "2s",
      "metrics-port": "0",
      "log-level": process.env.WARMPOOL_TEST_LOG ?? "silent",
      "relist-interval": "30s",
    });
    proc = await startFleetProcess(cfg, {
      metrics: createMetrics(new Registry(), { defaults: false }),
      log: createLogger({ level: cfg.logLevel }),
      host: "127.0.0.1",
    });
    responder = await startReadyResponder(redis, redis.duplicate(), b);
    claims = new ClaimService({ pool: b, redis });
    await claims.start();
  });
  afterAll(async () => {
    stopBridges();
    await proc?.stop();
    await responder?.stop();
    await claims?.close();
    await emu?.stop();
    redis?.disconnect();
    await server?.stop();
  });

  const live = (pool: string): number =>
    emu.control.tasks().filter((t) => t.startedBy === pool && t.desiredStatus === "RUNNING").length;

  it("one line per pool: counts equal Redis and the emulator, leader/epoch from Redis, exit code of the worst", async () => {
    await waitFor(
      "a at 3 warm, b at 2 warm",
      async () => {
        const [sa, sb] = await Promise.all([
          recordStates(redis, new PoolKeys(a)),
          recordStates(redis, new PoolKeys(b)),
        ]);
        return sa.warm === 3 && sb.warm === 2;
      },
      30_000,
    );
    const c = await claims!.claim({ userId: "alice" });
    expect(c.outcome).toBe("ready");
    // b refills to 2 warm beside its claimed task; the reconciler publishes the pass.
    await waitFor(
      "b refilled, its pass published",
      async () => {
        const s = await recordStates(redis, new PoolKeys(b));
        const snap = JSON.parse((await redis.get(new PoolKeys(b).status)) ?? "null") as {
          counts?: { warm: number };
        };
        return s.warm === 2 && s.claimed === 1 && snap?.counts?.warm === 2;
      },
      30_000,
    );

    const run = await ctl(["ctl", "status", "--redis-url", server.url, "-o", "json"]);
    const r = JSON.parse(run.out) as AllPoolsReport;
    expect(r.pools.map((p) => p.pool)).toEqual([a, b, orphan].sort());
    for (const p of [a, b]) {
      const line = r.pools.find((x) => x.pool === p)!;
      const k = new PoolKeys(p);
      const states = await recordStates(redis, k);
      expect(line).toMatchObject({
        warm: states.warm ?? 0,
        claimed: states.claimed ?? 0,
        starting: states.starting ?? 0,
        draining: states.draining ?? 0,
        waiting: await redis.llen(k.waiting),
        state: "active",
      });
      expect(line.warm + line.claimed + line.starting).toBe(live(p));
      expect(line.leader?.holder).toBe(await redis.get(k.leader));
      expect(line.leader?.epoch).toBe(Number(await redis.get(k.epoch)));
      expect(line.lastPassAgeMs).not.toBeNull();
      expect(line.health.healthy).toBe(true);
    }
    expect(r.pools.find((x) => x.pool === a)).toMatchObject({ target: 3, claimed: 0 });
    expect(r.pools.find((x) => x.pool === b)).toMatchObject({ target: 2, claimed: 1, warm: 2 });
    const z = r.pools.find((x) => x.pool === orphan)!;
    expect(z).toMatchObject({ leader: null, lastPassAgeMs: null, target: null, warm: 0 });
    expect(z.health.exitCode).toBe(10);
    expect(run.code).toBe(10);
    expect(r.health).toMatchObject({ healthy: false, exitCode: 10, unhealthy: 1 });

    // The text form: a header, one line per pool; --all-pools wins over a pool from the environment.
    const text = await ctl(["ctl", "status", "--redis-url", server.url, "--all-pools"], {
      env: { WARMPOOL_POOL: a },
    });
    expect(text.code).toBe(10);
    const lines = text.out.split("\n");
    expect(lines[0]).toMatch(/^3 pools {2}UNHEALTHY \(exit 10\)/);
    expect(lines[1]).toMatch(
      /^POOL\s+TARGET\s+WARM\s+CLAIMED\s+STARTING\s+DRAINING\s+WAITING\s+UTIL\s+LEADER\/EPOCH\s+LAST PASS\s+HEALTH$/,
    );
    const epochB = await redis.get(new PoolKeys(b).epoch);
    const rowB = lines.find((l) => l.startsWith(`${b} `))!;
    expect(rowB).toMatch(
      new RegExp(`^${b}\\s+2\\s+2\\s+1\\s+0\\s+0\\s+0\\s+33%\\s+\\S+/${epochB}\\s+\\S+\\s+ok$`),
    );
    expect(lines.find((l) => l.startsWith(`${orphan} `))).toMatch(
      /none\s+never\s+exit 10: no reconciler holds the leader lease$/,
    );

    // --pool keeps today's detail.
    const one = await ctl(["ctl", "status", "--redis-url", server.url, "--pool", b]);
    expect(one.code).toBe(0);
    expect(one.out).toMatch(new RegExp(`^pool ${b} {2}HEALTHY`));
  });

  it("no pool registered: says how to register one, exit 0; a bad --stale-after is named", async () => {
    const empty = await startPrivateRedis();
    try {
      const r = await ctl(["ctl", "status", "--redis-url", empty.url]);
      expect(r.code).toBe(0);
      expect(r.out).toMatch(/no pools registered \(ctl pool create --pool NAME\)/);
      const bad = await ctl(["ctl", "status", "--redis-url", empty.url, "--stale-after", "0"]);
      expect(bad.code).toBe(1);
      expect(bad.err).toMatch(/--stale-after: must be a positive number of seconds/);
    } finally {
      await empty.stop();
    }
  });
});
