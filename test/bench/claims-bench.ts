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
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { createInterface } from "node:readline";
import { Redis } from "ioredis";
import { ClaimKeys, ClaimService, IDEMPOTENCY_TTL_MS } from "../../pkg/claims/index.js";
import { runScript } from "../../pkg/claims/scripts.js";
import { startPrivateRedis, uniquePool } from "../harness/index.js";
import { registerWarm, startReadyResponder } from "../claims/stand-in.js";
import { fmt, measure, measureInterleaved, target, type LatencyFigures } from "./bench-stats.js";
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
    const [ping, luaClaim, assign1, ready1] = await measureInterleaved(n, [
      () => redis.ping(),
      () => {
        const id = randomUUID();
        return runScript(
          redis,
          "claim",
          [
            keys.warm,
            keys.claims,
            keys.waiting,
            keys.events,
            keys.claim(id),
            keys.idempotency("-"),
            keys.userQuota("bench-user"),
            keys.clientQuota("-"),
          ],
          [
            id,
            "bench-user",
            60_000,
            "0",
            keys.taskPrefix,
            "0",
            IDEMPOTENCY_TTL_MS,
            0,
            keys.claimPrefix,
            0,
            0,
            0,
          ],
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
  /** CPU (user + system) the gateway process spent per claim, warm-up included: its own cost. */
  gatewayCpuUsPerClaim: number;
}

/** user + system CPU seconds of a process so far (Linux /proc; NaN elsewhere). */
function cpuSeconds(pid: number | undefined): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(f[11]) + Number(f[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
  } catch {
    return NaN;
  }
}

/**
 * POST /v1/claims to ready through the gateway in its own process, driven by http-load in another.
 * `gatewayArgs` are node flags for the gateway process (e.g. `--cpu-prof`).
 */
export async function benchGateway(
  opts: { claims?: number; concurrency?: number; gatewayArgs?: string[] } = {},
): Promise<GatewayFigures> {
  const n = opts.claims ?? 10_000;
  const warmup = 1000;
  const concurrency = opts.concurrency ?? 64;
  const server = await startPrivateRedis();
  const redis = new Redis(server.url);
  const pool = uniquePool("bench");
  const token = "bench-token-0123456789abcdef";
  const responder = await startReadyResponder(redis, new Redis(server.url), pool);
  await registerWarm(redis, pool, n + warmup);
  const gw = spawn(
    process.execPath,
    [...(opts.gatewayArgs ?? []), join(here, "gateway-process.js"), server.url, pool, token],
    { stdio: ["ignore", "pipe", "inherit"], env: { ...process.env, WARMPOOL_LOG_LEVEL: "warn" } },
  );
  const exited = once(gw, "exit");
  try {
    const url = await new Promise<string>((resolve, reject) => {
      gw.once("exit", (c) => reject(new Error(`gateway process exited with ${c}`)));
      createInterface({ input: gw.stdout }).once("line", resolve);
    });
    const cpu0 = cpuSeconds(gw.pid);
    const load = spawn(
      process.execPath,
      [join(here, "http-load.js"), url, token, String(n), String(concurrency)],
      { stdio: ["ignore", "pipe", "inherit"], env: { ...process.env, WARMUP: String(warmup) } },
    );
    let out = "";
    load.stdout.on("data", (d: Buffer) => (out += d.toString()));
    const [code] = (await once(load, "exit")) as [number | null];
    if (code !== 0) throw new Error(`load generator exited with ${code}`);
    const gatewayCpuUsPerClaim = ((cpuSeconds(gw.pid) - cpu0) * 1e6) / (n + warmup);
    return { ...(JSON.parse(out) as Omit<GatewayFigures, "gatewayCpuUsPerClaim">), gatewayCpuUsPerClaim };
  } finally {
    gw.kill("SIGTERM");
    await exited;
    await responder.stop();
    redis.disconnect();
    await server.stop();
  }
}

/** Every claims figure with its target, in one run (called by test/bench/run.ts). */
export async function runClaimsBench(): Promise<void> {
  const r = await benchClaims();
  const floor = r.ping.p50Ms;
  console.log(`redis PING (floor)                  ${fmt(r.ping)}`);
  console.log(
    `claim script (Lua), 1 caller        ${fmt(r.luaClaim)}  p50 = ${(r.luaClaim.p50Ms / floor).toFixed(2)}x PING`,
  );
  for (const [c, f] of Object.entries(r.libraryAssign)) {
    const label = `library claim (→ Lua), ${c} conc`.padEnd(36);
    console.log(`${label}${fmt(f)}  p50 = ${(f.p50Ms / floor).toFixed(2)}x PING`);
  }
  for (const [c, f] of Object.entries(r.libraryClaim)) {
    const label = `library claim → ready, ${c} conc`.padEnd(36);
    console.log(`${label}${fmt(f)}  p50 = ${(f.p50Ms / floor).toFixed(2)}x PING`);
  }
  const one = r.libraryAssign[1];
  const best = Math.max(...Object.values(r.libraryAssign).map((f) => f.perSecond));
  if (one) console.log(target(one.p50Ms <= 3 * floor, `library claim (→ Lua) p50, 1 caller ≤ 3× PING p50`));
  console.log(target(best >= 10_000, `library claims (→ Lua)/s ≥ 10,000 (best ${Math.round(best)}/s)`));
  const bestReady = Math.max(...Object.values(r.libraryClaim).map((f) => f.perSecond));
  console.log(
    `    (to ready, through the stand-in bridge: p50 ${((r.libraryClaim[1]?.p50Ms ?? NaN) / floor).toFixed(2)}x PING, ` +
      `best ${Math.round(bestReady)}/s)`,
  );

  const g = await benchGateway();
  console.log(`gateway HTTP claim → ready, 64 conc ${fmt(g)}  statuses ${JSON.stringify(g.statuses)}`);
  console.log(
    `    gateway process CPU ${Math.round(g.gatewayCpuUsPerClaim)} µs/claim ` +
      `(one core's ceiling ≈ ${Math.round(1e6 / g.gatewayCpuUsPerClaim)} claims/s)`,
  );
  console.log(target(g.p99Ms <= 10, "gateway p99 ≤ 10 ms"));
  console.log(target(g.perSecond >= 2000, "gateway ≥ 2,000 claims/s"));

  const e = await benchClaimToReady();
  console.log(`claim → ready, real bridge + agent  ${fmt(e)}`);
  console.log(target(e.p50Ms <= 50, "claim → ready p50 ≤ 50 ms"));
  console.log(target(e.p99Ms <= 200, "claim → ready p99 ≤ 200 ms"));
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await runClaimsBench();
}
