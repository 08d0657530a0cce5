/**
 * Many pools in one reconciler process (`startFleetProcess`, the `--all-pools` wiring) against the
 * emulator over HTTP at ECS's default buckets, the event feed fanned out by startedBy and every
 * ECS call spent from the shared budget in Redis. Shared by test/fleet/many-pools.test.ts (which
 * asserts what must hold: exact targets, the budget's bound, every refill served) and
 * test/bench/fleet-bench.ts (which measures: claim → first RunTask quiet and under a burst).
 * Everything is counted from ground truth: the emulator's tasks per startedBy and its call counts,
 * the records in Redis.
 */
import { Redis } from "ioredis";
import { Registry } from "prom-client";
import type { Emulator } from "../../hack/emulator/index.js";
import { startPrivateRedis, type PrivateRedis } from "../../hack/redis/private-redis.js";
import { ClaimService } from "../../pkg/claims/index.js";
import { PoolKeys } from "../../pkg/keys/index.js";
import { createLogger } from "../../pkg/log/index.js";
import { createMetrics } from "../../pkg/metrics/index.js";
import { PoolRegistry } from "../../pkg/pools/index.js";
import { buildConfig, startFleetProcess, type FleetProcess } from "../../pkg/reconciler/index.js";
import { startReadyResponder, type ReadyResponder } from "../claims/stand-in.js";
import { FAMILY, startTestEmulator } from "../ecs/env.js";
import { recordStates } from "../harness/record-states.js";
import { waitFor } from "../harness/wait-for.js";
import { registerRunningTasks } from "./bridge-stand-in.js";

export interface ManyPoolsOptions {
  pools: number;
  /** Pools probed for claim → first RunTask while nothing else happens (one claim each). */
  quietProbes: number;
  /** Pools probed the same way while the busy pool is under its burst. */
  burstProbes: number;
  /** Workers claiming and releasing on the busy pool as fast as it serves them. */
  burstWorkers: number;
  /** How long the burst runs before the burst probes start. */
  burstLeadMs: number;
  /** The account's budget (calls/s) for List/Describe and Run/Stop. */
  readRate: number;
  writeRate: number;
  convergeTimeoutMs: number;
  log?: string;
}

export interface ManyPoolsResult {
  pools: number;
  convergedMs: number;
  /** Claim → first RunTask of the pool's refill (ms), per probe; undefined = never launched. */
  quietMs: (number | undefined)[];
  burstMs: (number | undefined)[];
  busyServed: number;
  burstWritesPerS: number;
  elapsedS: number;
  reads: number;
  writes: number;
  throttled: number;
  /** Pools not at their exact count once settled ({} = every pool exact). */
  offAfter: Record<string, number>;
  /** The busy pool's live tasks are exactly its records (warm + claimed), at least its target warm. */
  busyExact: boolean;
  busyAfter: string;
}

const ECS_OPS = ["ListTasks", "DescribeTasks", "DescribeTaskDefinition", "RunTask", "StopTask"];
const READS = new Set(["ListTasks", "DescribeTasks", "DescribeTaskDefinition"]);
export const TARGET = 2;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function runManyPools(o: ManyPoolsOptions): Promise<ManyPoolsResult> {
  const POOLS = Array.from({ length: o.pools }, (_, i) => `many-${String(i).padStart(2, "0")}`);
  const BUSY = POOLS[0]!;
  const probes = POOLS.slice(1, 1 + o.quietProbes + o.burstProbes);
  if (probes.length < o.quietProbes + o.burstProbes) throw new Error("more probes than pools");
  let server: PrivateRedis | undefined;
  let redis: Redis | undefined;
  let emu: Emulator | undefined;
  let proc: FleetProcess | undefined;
  let stopBridges = (): void => undefined;
  const responders: ReadyResponder[] = [];
  const services = new Map<string, ClaimService>();
  try {
    server = await startPrivateRedis();
    const r = new Redis(server.url, { maxRetriesPerRequest: 1 });
    redis = r;
    r.on("error", () => undefined);
    // ECS's default buckets (20/s reads, 40/s writes, burst 100): no rateLimits override.
    ({ emu } = await startTestEmulator({
      eventRules: [{ name: "fleet-feed", queueName: "ecs-events", clusters: ["default"] }],
    }));
    const e = emu;
    const reg = new PoolRegistry(r);
    for (const p of POOLS) {
      await reg.create(p, { who: "test", labels: { tier: p === BUSY ? "busy" : "quiet" } });
      const desired =
        p === BUSY
          ? { minWarm: TARGET, maxWarm: 40, replenishThreshold: TARGET }
          : { minWarm: TARGET, maxWarm: 10, replenishThreshold: TARGET };
      await r.set(new PoolKeys(p).config, JSON.stringify(desired));
    }
    stopBridges = registerRunningTasks(e, r);
    for (const p of [BUSY, ...probes]) {
      responders.push(await startReadyResponder(r, r.duplicate(), p));
      const svc = new ClaimService({ pool: p, redis: r, limits: { minLeaseSeconds: 1 } });
      await svc.start();
      services.set(p, svc);
    }

    const live = (pool: string): number =>
      e.control.tasks().filter((t) => t.startedBy === pool && t.desiredStatus === "RUNNING").length;
    const ecsCalls = (): { read: number; write: number } => {
      const c = e.control.calls();
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
      e.control
        .tasks()
        .filter((x) => x.startedBy === pool && x.createdAt >= t)
        .map((x) => x.createdAt)
        .sort((a, b) => a - b)[0];

    const queue = e.control.queues().find((q) => q.name === "ecs-events")!.url;
    const cfg = buildConfig({
      "all-pools": true,
      cluster: "default",
      "task-definition": FAMILY,
      "redis-url": server.url,
      "endpoint-url": e.endpoint,
      "resync-interval": "2s",
      "lease-ttl": "3s",
      "fleet-ttl": "2s",
      "metrics-port": "0",
      "log-level": o.log ?? "silent",
      "feed-queue-url": queue,
      "feed-wait": "1",
      "relist-interval": "30s",
      "in-doubt-grace": "2s",
      "budget-ecs-read": String(o.readRate),
      "budget-ecs-write": String(o.writeRate),
    });
    e.control.resetCalls();
    const t0 = Date.now();
    proc = await startFleetProcess(cfg, {
      metrics: createMetrics(new Registry(), { defaults: false }),
      log: createLogger({ level: cfg.logLevel }),
      host: "127.0.0.1",
    });
    const fleet = proc.fleet;

    // (1) Every pool at its exact target, from the emulator's ground truth per startedBy.
    await waitFor(
      `${o.pools} pools at ${TARGET} live tasks each`,
      () => POOLS.every((p) => live(p) === TARGET),
      o.convergeTimeoutMs,
      200,
    ).catch((err: unknown) => {
      const counts: Record<string, number> = {};
      for (const p of POOLS) counts[live(p)] = (counts[live(p)] ?? 0) + 1;
      throw new Error(
        `${String(err)}; live tasks per pool → pools: ${JSON.stringify(counts)}; served ${fleet.served.length}; calls ${JSON.stringify(e.control.calls())}`,
      );
    });
    const convergedMs = Date.now() - t0;
    if (fleet.served.length !== o.pools) throw new Error(`served ${fleet.served.length} of ${o.pools} pools`);

    // (2) Quiet figure: one claim on each quiet probe, one after the other, nothing else going on.
    // First the pools' converging calls leave the budget's active window (5 s): while every pool
    // is active each one's fair share of the writes is rate / pools.
    await sleep(6_000);
    const claimOne = async (pool: string): Promise<number | undefined> => {
      const at = Date.now();
      const res = await services.get(pool)!.claim({ userId: `u-${pool}`, waitMs: 20_000, leaseSeconds: 300 });
      if (res.outcome !== "ready") throw new Error(`${pool}: claim ${res.outcome}`);
      const run = await waitFor(
        `${pool}: the refill's RunTask`,
        () => firstRunAfter(pool, at) ?? false,
        20_000,
        20,
      ).catch(() => undefined);
      return run === undefined ? undefined : (run as number) - at;
    };
    const quiet: (number | undefined)[] = [];
    for (const p of probes.slice(0, o.quietProbes)) quiet.push(await claimOne(p));

    // (3) The burst: workers claim and release on the busy pool as fast as it serves them, so it
    // keeps asking for RunTask and StopTask; meanwhile the burst probes claim once each.
    const svc = services.get(BUSY)!;
    let burstOn = true;
    let busyServed = 0;
    const worker = async (w: number): Promise<void> => {
      for (let i = 0; burstOn; i++) {
        const res = await svc.claim({ userId: `busy-${w}-${i}`, waitMs: 5_000, leaseSeconds: 60 });
        if (res.outcome === "ready") {
          busyServed++;
          await svc.release(res.claim.claimId);
        }
      }
    };
    const burstCalls = ecsCalls();
    const burstAt = Date.now();
    const workers = Array.from({ length: o.burstWorkers }, (_, w) => worker(w));
    await sleep(o.burstLeadMs);
    const during: (number | undefined)[] = [];
    for (const p of probes.slice(o.quietProbes)) during.push(await claimOne(p));
    const burstWritesPerS = (ecsCalls().write - burstCalls.write) / ((Date.now() - burstAt) / 1000);
    burstOn = false;
    await Promise.all(workers);

    // (4) Settled: every other pool at its exact count again (target + the probes' held claims);
    // the busy pool's tasks exactly its records (warm, claimed), at least its target warm (a
    // launch for a claim that gave up waiting stays warm, up to maxWarm).
    const off = (): Record<string, number> => {
      const out: Record<string, number> = {};
      for (const p of POOLS)
        if (p !== BUSY && live(p) !== TARGET + (probes.includes(p) ? 1 : 0)) out[p] = live(p);
      return out;
    };
    let busyAfter = "";
    let busyOk = false;
    const busyExact = async (): Promise<boolean> => {
      const st = await recordStates(r, new PoolKeys(BUSY));
      const n = live(BUSY);
      busyAfter = `${n} live = ${JSON.stringify(st)}`;
      busyOk = n === (st.warm ?? 0) + (st.claimed ?? 0) && (st.warm ?? 0) >= TARGET;
      return busyOk;
    };
    await waitFor(
      "every pool back at its exact count",
      async () => Object.keys(off()).length === 0 && (await busyExact()),
      60_000,
      200,
    ).catch(() => undefined);
    const elapsedS = (Date.now() - t0) / 1000;
    const calls = ecsCalls();
    return {
      pools: o.pools,
      convergedMs,
      quietMs: quiet,
      burstMs: during,
      busyServed,
      burstWritesPerS: Math.round(burstWritesPerS * 100) / 100,
      elapsedS,
      reads: calls.read,
      writes: calls.write,
      throttled: Object.values(e.control.calls()).reduce((a, c) => a + c.throttled, 0),
      offAfter: off(),
      busyExact: busyOk,
      busyAfter,
    };
  } finally {
    stopBridges();
    await proc?.stop();
    for (const rr of responders) await rr.stop();
    for (const s of services.values()) await s.close();
    await emu?.stop();
    redis?.disconnect();
    await server?.stop();
  }
}
