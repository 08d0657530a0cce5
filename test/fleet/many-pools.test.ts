import { Redis } from "ioredis";
import { Registry } from "prom-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Emulator } from "../../hack/emulator/index.js";
import { ClaimService } from "../../pkg/claims/index.js";
import { PoolKeys } from "../../pkg/keys/index.js";
import { createLogger } from "../../pkg/log/index.js";
import { createMetrics } from "../../pkg/metrics/index.js";
import { PoolRegistry } from "../../pkg/pools/index.js";
import { buildConfig, startFleetProcess, type FleetProcess } from "../../pkg/reconciler/index.js";
import { figures, pick, sleep } from "../chaos/mode.js";
import { registerRunningTasks } from "./bridge-stand-in.js";
import { startReadyResponder, type ReadyResponder } from "../claims/stand-in.js";
import { FAMILY, startTestEmulator } from "../ecs/env.js";
import { recordStates, startPrivateRedis, waitFor, type PrivateRedis } from "../harness/index.js";

const N = pick(50, 50);
const POOLS = Array.from({ length: N }, (_, i) => `many-${String(i).padStart(2, "0")}`);
const TARGET = 2;
/** The budget the whole account gets in this test (calls/s), well below ECS's 20 and 40. */
const READ_RATE = 10;
const WRITE_RATE = 6;
const ECS_OPS = ["ListTasks", "DescribeTasks", "DescribeTaskDefinition", "RunTask", "StopTask"];
const READS = new Set(["ListTasks", "DescribeTasks", "DescribeTaskDefinition"]);
const BUSY = POOLS[0]!;
/** Pools probed for claim → first RunTask, half while quiet, half during the busy pool's burst. */
const PROBES = pick(POOLS.slice(1, 7), POOLS.slice(1, 13));

/**
 * 50 pools in one reconciler process (`startFleetProcess`, the `--all-pools` wiring) against the
 * emulator over HTTP at ECS's default buckets, with the event feed fanned out by startedBy and
 * every ECS call spent from the shared budget in Redis. Counted from the emulator: every pool's
 * live tasks, the ECS calls per operation over the run, and the RunTask times that answer a claim.
 */
describe("many pools in one reconciler process (real Redis, emulator over HTTP)", () => {
  let server: PrivateRedis;
  let redis: Redis;
  let emu: Emulator;
  let proc: FleetProcess | undefined;
  let stopBridges = (): void => undefined;
  const responders: ReadyResponder[] = [];
  const services = new Map<string, ClaimService>();

  const live = (pool: string): number =>
    emu.control.tasks().filter((t) => t.startedBy === pool && t.desiredStatus === "RUNNING").length;
  const ecsCalls = (): { read: number; write: number } => {
    const c = emu.control.calls();
    let read = 0;
    let write = 0;
    for (const op of ECS_OPS) {
      const n = Object.values(c[op] ?? {}).reduce((a, b) => a + b, 0);
      if (READS.has(op)) read += n;
      else write += n;
    }
    return { read, write };
  };
  const firstRunAfter = (pool: string, t: number): number | undefined =>
    emu.control
      .tasks()
      .filter((x) => x.startedBy === pool && x.createdAt >= t)
      .map((x) => x.createdAt)
      .sort((a, b) => a - b)[0];

  beforeAll(async () => {
    server = await startPrivateRedis();
    redis = new Redis(server.url, { maxRetriesPerRequest: 1 });
    redis.on("error", () => undefined);
    ({ emu } = await startTestEmulator({
      eventRules: [{ name: "fleet-feed", queueName: "ecs-events", clusters: ["default"] }],
    }));
    const reg = new PoolRegistry(redis);
    for (const p of POOLS) {
      await reg.create(p, { who: "test", labels: { tier: p === BUSY ? "busy" : "quiet" } });
      const desired =
        p === BUSY
          ? { minWarm: TARGET, maxWarm: 40, replenishThreshold: TARGET }
          : { minWarm: TARGET, maxWarm: 10, replenishThreshold: TARGET };
      await redis.set(new PoolKeys(p).config, JSON.stringify(desired));
    }
    stopBridges = registerRunningTasks(emu, redis);
    for (const p of [BUSY, ...PROBES]) {
      responders.push(await startReadyResponder(redis, redis.duplicate(), p));
      const svc = new ClaimService({ pool: p, redis, limits: { minLeaseSeconds: 1 } });
      await svc.start();
      services.set(p, svc);
    }
  });
  afterAll(async () => {
    stopBridges();
    await proc?.stop();
    for (const r of responders) await r.stop();
    for (const s of services.values()) await s.close();
    await emu?.stop();
    redis?.disconnect();
    await server?.stop();
  });

  it(`${N} pools reach their exact targets within the shared budget; a burst on one pool leaves the others' refills served`, async () => {
    const queue = emu.control.queues().find((q) => q.name === "ecs-events")!.url;
    const cfg = buildConfig({
      "all-pools": true,
      cluster: "default",
      "task-definition": FAMILY,
      "redis-url": server.url,
      "endpoint-url": emu.endpoint,
      "resync-interval": "2s",
      "lease-ttl": "3s",
      "fleet-ttl": "2s",
      "metrics-port": "0",
      "log-level": process.env.WARMPOOL_TEST_LOG ?? "silent",
      "feed-queue-url": queue,
      "feed-wait": "1",
      "relist-interval": "30s",
      "in-doubt-grace": "2s",
      "budget-ecs-read": String(READ_RATE),
      "budget-ecs-write": String(WRITE_RATE),
    });
    emu.control.resetCalls();
    const t0 = Date.now();
    proc = await startFleetProcess(cfg, {
      metrics: createMetrics(new Registry(), { defaults: false }),
      log: createLogger({ level: cfg.logLevel }),
      host: "127.0.0.1",
    });

    // (1) every pool at its exact target, from the emulator's ground truth per startedBy.
    await waitFor(
      `${N} pools at ${TARGET} live tasks each`,
      () => POOLS.every((p) => live(p) === TARGET),
      pick(45_000, 90_000),
      200,
    ).catch((e: unknown) => {
      const counts: Record<string, number> = {};
      for (const p of POOLS) counts[live(p)] = (counts[live(p)] ?? 0) + 1;
      const served = proc?.fleet.served.length;
      throw new Error(
        `${String(e)}; live tasks per pool → pools: ${JSON.stringify(counts)}; served ${served}; calls ${JSON.stringify(emu.control.calls())}`,
      );
    });
    const convergedMs = Date.now() - t0;
    expect(proc.fleet.served).toHaveLength(N);

    // (2) Quiet figure: one claim on each of the first half of the probes, nothing else going on.
    // First the pools' converging calls leave the budget's active window (5 s): while every pool
    // is active each one's fair share of the writes is rate / 50, one call per ~8 s.
    await sleep(6_000);
    const claimOne = async (pool: string): Promise<number> => {
      const at = Date.now();
      const r = await services.get(pool)!.claim({ userId: `u-${pool}`, waitMs: 20_000, leaseSeconds: 300 });
      expect(r.outcome).toBe("ready");
      const run = await waitFor(
        `${pool}: the refill's RunTask`,
        () => firstRunAfter(pool, at) ?? false,
        20_000,
        20,
      );
      return (run as number) - at;
    };
    const half = Math.floor(PROBES.length / 2);
    const quiet: number[] = [];
    for (const p of PROBES.slice(0, half)) quiet.push(await claimOne(p));

    // (3) The burst: workers claim and release on the busy pool as fast as it serves them, so it
    // keeps asking for RunTask and StopTask; meanwhile the other probes claim once each.
    const svc = services.get(BUSY)!;
    let burstOn = true;
    let busyServed = 0;
    const worker = async (w: number): Promise<void> => {
      for (let i = 0; burstOn; i++) {
        const r = await svc.claim({ userId: `busy-${w}-${i}`, waitMs: 5_000, leaseSeconds: 60 });
        if (r.outcome === "ready") {
          busyServed++;
          await svc.release(r.claim.claimId);
        }
      }
    };
    const burstCalls = ecsCalls();
    const burstAt = Date.now();
    const workers = Array.from({ length: 30 }, (_, w) => worker(w));
    await sleep(pick(5_000, 20_000)); // the burst is under way
    const during: number[] = [];
    for (const p of PROBES.slice(half)) during.push(await claimOne(p));
    const burstWrites = (ecsCalls().write - burstCalls.write) / ((Date.now() - burstAt) / 1000);
    burstOn = false;
    await Promise.all(workers);

    const med = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    figures("many-pools", {
      pools: N,
      convergedMs,
      quietMs: quiet,
      burstMs: during,
      busyServed,
      burstWritesPerS: Math.round(burstWrites * 100) / 100,
    });
    // Within 2× of the quiet figure (a 250 ms floor absorbs scheduling noise on a shared machine).
    expect(med(during)).toBeLessThanOrEqual(2 * Math.max(med(quiet), 250));
    expect(busyServed).toBeGreaterThan(0);

    // (4) Settled: every other pool at its exact count again (target + the probes' held claims);
    // the busy pool's tasks exactly its records (warm, claimed), at least its target warm (a
    // launch for a claim that gave up waiting stays warm, up to maxWarm).
    const busyExact = async (): Promise<string | false> => {
      const st = await recordStates(redis, new PoolKeys(BUSY));
      const n = live(BUSY);
      return n === (st.warm ?? 0) + (st.claimed ?? 0) && (st.warm ?? 0) >= TARGET
        ? `${n} live = ${JSON.stringify(st)}`
        : false;
    };
    let last = "";
    const busyAfter = await waitFor(
      "every pool back at its exact count",
      async () => {
        const off = POOLS.filter((p) => p !== BUSY && live(p) !== TARGET + (PROBES.includes(p) ? 1 : 0));
        last = `off: ${off.map((p) => `${p}=${live(p)}`).join(" ")}; busy ${live(BUSY)} ${JSON.stringify(await recordStates(redis, new PoolKeys(BUSY)))}`;
        return off.length === 0 ? busyExact() : false;
      },
      30_000,
      200,
    ).catch((e: unknown) => {
      throw new Error(`${String(e)}: ${last}`);
    });
    figures("many-pools settled", { busy: busyAfter });
    const elapsedS = (Date.now() - t0) / 1000;
    const calls = ecsCalls();
    figures("many-pools budget", {
      elapsedS: Math.round(elapsedS * 10) / 10,
      reads: calls.read,
      writes: calls.write,
      readPerS: Math.round((calls.read / elapsedS) * 100) / 100,
      writePerS: Math.round((calls.write / elapsedS) * 100) / 100,
      throttled: Object.values(emu.control.calls()).reduce((a, c) => a + c.throttled, 0),
    });
    // GCRA: over any window the budget lets through at most rate × t + burst (burst = ⌈rate⌉).
    expect(calls.read).toBeLessThanOrEqual(READ_RATE * elapsedS + READ_RATE);
    expect(calls.write).toBeLessThanOrEqual(WRITE_RATE * elapsedS + WRITE_RATE);
    expect(calls.write).toBeGreaterThanOrEqual(N); // at least one RunTask per pool
  }, 180_000);
});
