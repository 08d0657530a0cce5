/**
 * Claim latency against the floor of a Redis round trip, on loopback, with a private redis-server
 * (issue 4, "Benchmark"), each figure printed next to its target:
 *
 * - Redis PING p50/p99 on one connection (the floor), interleaved round by round with the
 *   one-caller figures below so that noise on a shared machine hits floor and figure alike;
 * - the claim script alone (one EVALSHA), sequential;
 * - the library claim through to the claim script's answer (ClaimService.begin → Lua: a warm task
 *   taken, "library claim (→ Lua)") at 1, 16 and 64 concurrent callers over warm records
 *   registered in bulk; the targets (≤ 3× PING p50, ≥ 10,000/s) apply to it;
 * - the library claim to ready (ClaimService.claim → Lua → init_user → a stand-in bridge reports
 *   ready → notice) at the same concurrencies: one round trip more than a claim plus the bridge's;
 * - the gateway (its own process) over HTTP at 64 concurrent keep-alive clients (a load generator
 *   in a third process), the stand-in bridge answering init_user at once;
 * - claim → ready end to end with real bridge processes starting a real agent.
 *
 *   npm run bench        (or: npx tsc -p . && node dist/test/bench/claims-bench.js)
 */
import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { once } from "node:events";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { createInterface } from "node:readline";
import { Redis } from "ioredis";
import { ClaimKeys, ClaimService } from "../../pkg/claims/index.js";
import { runClaimScript, WarmHint } from "../../pkg/claims/claim-script.js";
import { startPrivateRedis, uniquePool } from "../harness/index.js";
import { registerWarm } from "../claims/stand-in.js";
import {
  BenchRecorder,
  figures,
  fmt,
  measure,
  measureInterleaved,
  tail,
  type LatencyFigures,
} from "./bench-stats.js";
import type { GatewayProcessStats } from "./gateway-process.js";
import { benchClaimToReady } from "./bridge-ready.js";

export type { LatencyFigures } from "./bench-stats.js";

export interface ClaimsBenchResult {
  ping: LatencyFigures;
  /** The claim script alone (one EVALSHA), sequential. */
  luaClaim: LatencyFigures;
  /** ClaimService.begin() to the claim script's answer (a warm task taken), by concurrency. */
  libraryAssign: Record<number, LatencyFigures>;
  /** ClaimService.claim() to ready, by concurrency. */
  libraryClaim: Record<number, LatencyFigures>;
}

const here = dirname(fileURLToPath(import.meta.url));

export async function benchClaims(opts: { claims?: number } = {}): Promise<ClaimsBenchResult> {
  const n = opts.claims ?? 5000;
  const server = await startPrivateRedis();
  const redis = new Redis(server.url);
  const pool = uniquePool("bench");
  const keys = new ClaimKeys(pool);
  const svc = new ClaimService({ pool, redis, readyTimeoutMs: 30_000 });
  await svc.start();
  // The stand-in bridges in their own process: their work is not the library's.
  const responder = await startResponderProcess(server.url, pool);
  try {
    for (let i = 0; i < 500; i++) await redis.ping(); // warm up connection and JIT

    // The stand-in answers every init_user meanwhile, as bridges would: a `begin()` claim's
    // ready result is collected here and checked after the timing.
    const settled: Promise<unknown>[] = [];
    const assign = async (): Promise<void> => {
      const h = await svc.begin({ userId: "bench-user", waitMs: 0 });
      if (h.stage !== "assigned") throw new Error(`claim ${h.stage}`);
      settled.push(
        h.result.then((r) => {
          if (r.outcome !== "ready") throw new Error(`claim ${r.outcome}`);
        }),
      );
    };
    const toReady = async (): Promise<void> => {
      const r = await svc.claim({ userId: "bench-user", waitMs: 0 });
      if (r.outcome !== "ready") throw new Error(`claim ${r.outcome}`);
    };

    // One caller: PING, the claim script alone, the library claim (→ Lua) and the library claim
    // to ready, interleaved round by round, so the ratios to PING compare like with like.
    await registerWarm(redis, pool, 3 * n);
    const hint = new WarmHint();
    const [ping, luaClaim, assign1, ready1] = await measureInterleaved(n, [
      () => redis.ping(),
      () => {
        const id = randomUUID();
        return runClaimScript(
          redis,
          keys,
          {
            claimId: id,
            userId: "bench-user",
            leaseMs: 60_000,
            waitMs: 0,
            perUser: 0,
            perClient: 0,
            maxWaiting: 0,
          },
          hint,
        );
      },
      assign,
      toReady,
    ]);
    await Promise.all(settled.splice(0));

    const libraryAssign: ClaimsBenchResult["libraryAssign"] = { 1: assign1! };
    const libraryClaim: ClaimsBenchResult["libraryClaim"] = { 1: ready1! };
    for (const c of [16, 64]) {
      await registerWarm(redis, pool, n);
      libraryAssign[c] = await measure(n, c, assign);
      await Promise.all(settled.splice(0));
    }
    for (const c of [16, 64]) {
      await registerWarm(redis, pool, n);
      libraryClaim[c] = await measure(n, c, toReady);
    }
    return { ping: ping!, luaClaim: luaClaim!, libraryAssign, libraryClaim };
  } finally {
    await responder.stop();
    await svc.close();
    redis.disconnect();
    await server.stop();
  }
}

/** test/bench/responder-process.js as a child; resolves once it listens. */
async function startResponderProcess(redisUrl: string, pool: string): Promise<{ stop(): Promise<void> }> {
  const child = spawn(process.execPath, [join(here, "responder-process.js"), redisUrl, pool], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const exited = once(child, "exit");
  await new Promise<void>((resolve, reject) => {
    child.once("exit", (c) => reject(new Error(`ready responder exited with ${c}`)));
    createInterface({ input: child.stdout }).once("line", () => resolve());
  });
  return {
    async stop() {
      child.kill("SIGTERM");
      await exited;
    },
  };
}

export interface GatewayFigures extends LatencyFigures {
  statuses: Record<string, number>;
  /** Answers that were not 201: counted apart, never timed as claims (the bench fails on any). */
  failed: number;
  /** CPU (user + system) the gateway process spent per timed claim, from process.cpuUsage in it. */
  gatewayCpuUsPerClaim: number;
  /** The gateway's own event-loop delay, utilisation and GC over the timed claims (summed). */
  gatewayProcess: GatewayProcessStats;
}

export interface GatewayPair {
  /** POST /v1/claims → 201 through the gateway process, 64 keep-alive clients. */
  gateway: GatewayFigures;
  /** ClaimService.claim() → ready in this process, 64 callers, same Redis and stand-in bridges. */
  library: LatencyFigures;
  rounds: number;
}

/**
 * The gateway against the library, interleaved: one Redis, one pool, one stand-in bridge process;
 * `rounds` rounds of (library claim → ready at `concurrency` callers in this process, then the
 * same through the gateway in its own process, driven by http-load in a third). Each side's
 * figures pool its rounds, so a shared machine's bursts of load hit both alike and the ratio of
 * the two is the figure of merit. `gatewayArgs` are node flags for the gateway process (e.g.
 * `--cpu-prof`, `--trace-gc`).
 */
export async function benchGatewayVsLibrary(
  opts: {
    rounds?: number;
    gatewayPerRound?: number;
    libraryPerRound?: number;
    concurrency?: number;
    gatewayArgs?: string[];
  } = {},
): Promise<GatewayPair> {
  const rounds = opts.rounds ?? 5;
  const perG = opts.gatewayPerRound ?? 2000;
  const perL = opts.libraryPerRound ?? 1000;
  const warmG = 1000;
  const warmL = 500;
  const concurrency = opts.concurrency ?? 64;
  const server = await startPrivateRedis();
  const redis = new Redis(server.url);
  const pool = uniquePool("bench");
  const token = "bench-token-0123456789abcdef";
  const svc = new ClaimService({ pool, redis, readyTimeoutMs: 30_000 });
  await svc.start();
  const responder = await startResponderProcess(server.url, pool);
  const gw = spawn(
    process.execPath,
    [...(opts.gatewayArgs ?? []), join(here, "gateway-process.js"), server.url, pool, token],
    { stdio: ["pipe", "pipe", "inherit"], env: { ...process.env, WARMPOOL_LOG_LEVEL: "warn" } },
  );
  const gwExited = once(gw, "exit");
  let load: ReturnType<typeof spawn> | undefined;
  try {
    const gwAsk = lineChannel(gw, "gateway process");
    const url = await gwAsk();
    load = spawn(process.execPath, [join(here, "http-load.js"), url, token, String(concurrency)], {
      stdio: ["pipe", "pipe", "inherit"],
    });
    const loadAsk = lineChannel(load, "load generator");
    const toReady = async (): Promise<void> => {
      const r = await svc.claim({ userId: "bench-user", waitMs: 0 });
      if (r.outcome !== "ready") throw new Error(`library claim ${r.outcome}`);
    };
    await registerWarm(redis, pool, warmL + warmG + rounds * (perG + perL));
    await measure(warmL, concurrency, toReady);
    const warmed = JSON.parse(await loadAsk(`warm ${warmG}`)) as { failed: number; statuses: object };
    if (warmed.failed > 0) throw new Error(`gateway warm-up answered ${JSON.stringify(warmed.statuses)}`);

    const libLat: number[] = [];
    let libWall = 0;
    const gwLat: number[] = [];
    let gwWall = 0;
    const statuses: Record<string, number> = {};
    let failed = 0;
    const stats: GatewayProcessStats[] = [];
    for (let r = 0; r < rounds; r++) {
      const t0 = performance.now();
      libLat.push(...(await measureRaw(perL, concurrency, toReady)));
      libWall += performance.now() - t0;
      await gwAsk("stats"); // resets the gateway's counters: only the timed claims below count
      const out = JSON.parse(await loadAsk(`run ${perG}`)) as {
        lat: number[];
        statuses: Record<string, number>;
        failed: number;
        wallMs: number;
      };
      stats.push(JSON.parse(await gwAsk("stats")) as GatewayProcessStats);
      gwLat.push(...out.lat);
      gwWall += out.wallMs;
      failed += out.failed;
      for (const [k, v] of Object.entries(out.statuses)) statuses[k] = (statuses[k] ?? 0) + v;
    }
    const sum = (f: (x: GatewayProcessStats) => number): number => stats.reduce((a, x) => a + f(x), 0);
    const maxOf = (f: (x: GatewayProcessStats) => number): number => Math.max(...stats.map(f));
    const byKind: Record<string, number> = {};
    for (const x of stats) for (const [k, v] of Object.entries(x.gc.byKind)) byKind[k] = (byKind[k] ?? 0) + v;
    const proc: GatewayProcessStats = {
      cpuUs: sum((x) => x.cpuUs),
      eventLoopDelayMs: {
        // Per-round histograms: the worst round's percentiles, the largest delay of all.
        p50: maxOf((x) => x.eventLoopDelayMs.p50),
        p99: maxOf((x) => x.eventLoopDelayMs.p99),
        max: maxOf((x) => x.eventLoopDelayMs.max),
        samples: sum((x) => x.eventLoopDelayMs.samples),
      },
      eventLoopUtilization: Math.round((sum((x) => x.eventLoopUtilization) / stats.length) * 1000) / 1000,
      gc: {
        count: sum((x) => x.gc.count),
        totalMs: Math.round(sum((x) => x.gc.totalMs) * 10) / 10,
        maxMs: maxOf((x) => x.gc.maxMs),
        byKind,
      },
    };
    const gateway: GatewayFigures = {
      ...figures(gwLat, gwWall / 1000),
      statuses,
      failed,
      gatewayCpuUsPerClaim: Math.round(proc.cpuUs / (rounds * perG)),
      gatewayProcess: proc,
    };
    return { gateway, library: figures(libLat, libWall / 1000), rounds };
  } finally {
    load?.stdin?.end();
    if (load && load.exitCode === null) await once(load, "exit");
    gw.kill("SIGTERM");
    await gwExited;
    await responder.stop();
    await svc.close();
    redis.disconnect();
    await server.stop();
  }
}

/** Raw latencies (ms) of `total` calls from `concurrency` callers (closed loop). */
async function measureRaw(total: number, concurrency: number, op: () => Promise<unknown>): Promise<number[]> {
  const lat: number[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next++ < total) {
        const s = performance.now();
        await op();
        lat.push(performance.now() - s);
      }
    }),
  );
  return lat;
}

/** Request/answer over a child's stdin/stdout, one line each; the first call reads its first line. */
function lineChannel(child: ReturnType<typeof spawn>, name: string): (request?: string) => Promise<string> {
  const lines = createInterface({ input: child.stdout! });
  const waiting: { resolve(l: string): void; reject(e: Error): void }[] = [];
  lines.on("line", (l) => waiting.shift()?.resolve(l));
  child.once("exit", (c) => {
    for (const w of waiting.splice(0)) w.reject(new Error(`${name} exited with ${c}`));
  });
  return (request) =>
    new Promise<string>((resolve, reject) => {
      waiting.push({ resolve, reject });
      if (request !== undefined) child.stdin!.write(`${request}\n`);
    });
}

const line = (label: string, f: LatencyFigures, floor?: number): void =>
  console.log(
    `${label.padEnd(36)}${fmt(f)}${floor !== undefined ? `  p50 = ${(f.p50Ms / floor).toFixed(2)}x PING` : ""}`,
  );

/** Every claims figure with its target, in one run (called by test/bench/run.ts). */
export async function runClaimsBench(rec: BenchRecorder = new BenchRecorder()): Promise<void> {
  const r = await benchClaims();
  const floor = r.ping.p50Ms;
  line("redis PING (floor)", r.ping);
  line("claim script (Lua), 1 caller", r.luaClaim, floor);
  for (const [c, f] of Object.entries(r.libraryAssign)) line(`library claim (→ Lua), ${c} conc`, f, floor);
  for (const [c, f] of Object.entries(r.libraryClaim)) line(`library claim → ready, ${c} conc`, f, floor);
  const one = r.libraryAssign[1]!;
  const best = Math.max(...Object.values(r.libraryAssign).map((f) => f.perSecond));
  rec.target(
    "claims.libraryAssign1.p50VsPing",
    "library claim (→ Lua) p50, 1 caller ≤ 3× PING p50 (interleaved)",
    one.p50Ms / floor,
    "<=",
    3,
    "× PING",
  );
  rec.target(
    "claims.libraryAssign.bestPerSecond",
    "library claims (→ Lua)/s, best of 16 and 64 callers ≥ 10,000",
    best,
    ">=",
    10_000,
    "/s",
  );

  const pair = await benchGatewayVsLibrary();
  const g = pair.gateway;
  const lib64 = pair.library;
  console.log(
    `gateway vs library, interleaved in ${pair.rounds} rounds (same Redis, pool and stand-in bridges):`,
  );
  line("library claim → ready, 64 conc", lib64);
  line("gateway HTTP claim → ready, 64 conc", g);
  const p = g.gatewayProcess;
  console.log(
    `    statuses ${JSON.stringify(g.statuses)}; gateway process: ${g.gatewayCpuUsPerClaim} µs CPU/claim, ` +
      `event-loop delay p50 ${p.eventLoopDelayMs.p50} / p99 ${p.eventLoopDelayMs.p99} / max ${p.eventLoopDelayMs.max} ms, ` +
      `utilisation ${p.eventLoopUtilization}, GC ${p.gc.count}× ${p.gc.totalMs} ms (max ${p.gc.maxMs} ms)`,
  );
  rec.target("claims.gateway.failed", "gateway: answers other than 201 = 0", g.failed, "==", 0, "answers");
  rec.target(
    "claims.gateway.perSecond",
    "gateway claims/s at 64 clients ≥ 2,000",
    g.perSecond,
    ">=",
    2000,
    "/s",
  );
  rec.target(
    "claims.gateway.p99VsLibrary",
    "gateway claim → ready p99 ≤ 2× the library's claim → ready p99, 64 concurrent, interleaved",
    (g.p99Ms ?? NaN) / (lib64.p99Ms ?? NaN),
    "<=",
    2,
    "×",
  );

  const e = await benchClaimToReady();
  line("claim → ready, real bridge + agent", e);
  rec.target(
    "claims.realBridge.p50",
    "claim → ready with a real bridge, p50 ≤ 50 ms",
    e.p50Ms,
    "<=",
    50,
    "ms",
  );
  const t = tail(e);
  rec.target(
    "claims.realBridge.tail",
    `claim → ready with a real bridge, ${t.name} ≤ 200 ms (the design's p99 target, held by the largest sample)`,
    t.ms,
    "<=",
    200,
    "ms",
  );
  rec.record("claims", { ...r, gatewayPair: pair, realBridge: e });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const rec = new BenchRecorder();
  if (process.argv.includes("--gateway-pair")) {
    // Profiling aid: only the interleaved gateway/library pair. Arguments after --gateway-pair
    // are node flags for the gateway process (e.g. --cpu-prof --cpu-prof-dir=/tmp/prof).
    const flags = process.argv.slice(process.argv.indexOf("--gateway-pair") + 1);
    const pair = await benchGatewayVsLibrary({ gatewayArgs: flags });
    line("library claim → ready, 64 conc", pair.library);
    line("gateway HTTP claim → ready, 64 conc", pair.gateway);
    const { gatewayCpuUsPerClaim, statuses, gatewayProcess } = pair.gateway;
    console.log(JSON.stringify({ gatewayCpuUsPerClaim, statuses, ...gatewayProcess }));
    console.log(
      `ratio p99 gateway / library: ${((pair.gateway.p99Ms ?? NaN) / (pair.library.p99Ms ?? NaN)).toFixed(2)}`,
    );
  } else {
    await runClaimsBench(rec);
    process.exitCode = rec.missed.length ? 1 : 0;
  }
}
