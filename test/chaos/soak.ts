/**
 * Soak: steady claim traffic through the real gateway against the real reconciler (two processes,
 * one leading), Redis and the ECS emulator, for `--duration` (default 5m). Every `--every`
 * (default 10 s) it samples the reconciler's and the gateway's RSS (from /proc, not from the
 * processes themselves), their event-loop lag p99 (their /metrics), and Redis `used_memory` with
 * the number of retained claim records (ended claims are kept 24 h by design, so Redis grows with
 * them; the report gives the bytes per retained claim). After a warm-up (the first fifth), the mean
 * of the last third is compared with the first third. The invariants are checked at the end.
 *
 *   npm run soak -- --duration 30m --report soak-report.json
 */
import { readFileSync, writeFileSync } from "node:fs";
import { parseDuration } from "../../pkg/reconciler/index.js";
import { startTraffic } from "./driver.js";
import { startChaosWorld, type Child } from "./env.js";
import { Sampler, checkInvariants } from "./invariants.js";
import { sleep } from "./mode.js";

interface Args {
  durationMs: number;
  everyMs: number;
  clients: number;
  report: string;
}

function parseArgs(argv: string[]): Args {
  const get = (name: string, def: string): string => {
    const i = argv.indexOf(`--${name}`);
    const eq = argv.find((a) => a.startsWith(`--${name}=`));
    return eq ? eq.slice(name.length + 3) : i >= 0 && argv[i + 1] ? argv[i + 1]! : def;
  };
  const problems: string[] = [];
  const dur = (name: string, def: string, minMs: number): number => {
    try {
      const ms = parseDuration(get(name, def), `--${name}`);
      if (ms < minMs) problems.push(`--${name}: must be at least ${minMs} ms`);
      return ms;
    } catch (e) {
      problems.push((e as Error).message);
      return 0;
    }
  };
  const durationMs = dur("duration", "5m", 30_000);
  const everyMs = dur("every", "10s", 1_000);
  const clients = Number(get("clients", "4"));
  if (!Number.isInteger(clients) || clients < 1 || clients > 64)
    problems.push(`--clients: must be an integer from 1 to 64, got ${get("clients", "4")}`);
  if (problems.length) {
    console.error(`soak: ${problems.join("; ")}`);
    process.exit(2);
  }
  return { durationMs, everyMs, clients, report: get("report", "soak-report.json") };
}

const rssBytes = (pid: number): number => {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) * 1024 : NaN;
};

async function lagP99(metricsUrl: string): Promise<number> {
  const text = await (await fetch(metricsUrl)).text();
  const m = /^warmpool_nodejs_eventloop_lag_p99_seconds(?:\{[^}]*\})? (\S+)$/m.exec(text);
  return m ? Number(m[1]) : NaN;
}

interface Sample {
  atS: number;
  reconcilerRssMB: number;
  gatewayRssMB: number;
  reconcilerLagP99Ms: number;
  gatewayLagP99Ms: number;
  redisUsedMB: number;
  claimRecords: number;
  claimsServed: number;
}

const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
const round = (n: number, d = 2): number => Math.round(n * 10 ** d) / 10 ** d;

/** Mean of the first and last thirds after warm-up, and the change between them. */
function drift(samples: Sample[], key: keyof Sample): { first: number; last: number; change: number } {
  const after = samples.slice(Math.floor(samples.length / 5));
  const third = Math.max(1, Math.floor(after.length / 3));
  const first = mean(after.slice(0, third).map((s) => s[key]));
  const last = mean(after.slice(-third).map((s) => s[key]));
  return { first: round(first), last: round(last), change: round(last - first) };
}

/**
 * What a soak must not show: memory that keeps growing, an event loop that keeps slowing, Redis
 * growing by more than the claim records it is meant to retain. Limits are generous (a shared
 * 2-core machine is noisy): a leak passes them within minutes, noise does not.
 */
function judgeDrift(d: {
  reconcilerRssMB: { first: number; change: number };
  gatewayRssMB: { first: number; change: number };
  reconcilerLagP99Ms: { last: number };
  gatewayLagP99Ms: { last: number };
  redisBytesPerRetainedClaim: number | null;
}): string[] {
  const out: string[] = [];
  for (const k of ["reconcilerRssMB", "gatewayRssMB"] as const) {
    const { first, change } = d[k];
    if (change > Math.max(20, first * 0.25)) out.push(`${k} grew ${change} MB from ${first} MB`);
  }
  for (const k of ["reconcilerLagP99Ms", "gatewayLagP99Ms"] as const) {
    if (d[k].last > 250) out.push(`${k} is ${d[k].last} ms at the end`);
  }
  if (d.redisBytesPerRetainedClaim !== null && d.redisBytesPerRetainedClaim > 4_096) {
    out.push(`Redis grew ${d.redisBytesPerRetainedClaim} B per retained claim record (expected ~700)`);
  }
  return out;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const desired = { minWarm: 5, maxWarm: 8, replenishThreshold: 2, maxSurge: 2, maxTasks: 60 };
  const w = await startChaosWorld({ bridges: "stand-in", emulator: { stoppedRetentionMs: 60_000 } });
  try {
    await w.setDesired(desired);
    const reconcilers = [await w.spawnReconciler(), await w.spawnReconciler()];
    const gw = await w.spawnGateway();
    const sampler = new Sampler(w.redis, w.emu.endpoint, w.pool).start(1_000);
    const traffic = startTraffic({ gatewayUrl: gw.url, clients: args.clients, holdMs: 500, waitMs: 10_000 });
    const samples: Sample[] = [];
    const t0 = Date.now();
    const leading = async (): Promise<Child & { metricsUrl: string }> => {
      const pid = await w.leaderPid();
      return reconcilers.find((r) => r.pid === pid) ?? reconcilers[0]!;
    };
    console.log(
      `soak: ${args.durationMs / 1000} s, ${args.clients} clients, a sample every ${args.everyMs / 1000} s`,
    );
    while (Date.now() - t0 < args.durationMs) {
      await sleep(args.everyMs);
      const rec = await leading();
      const info = await w.redis.info("memory");
      const used = Number(/used_memory:(\d+)/.exec(info)?.[1] ?? NaN);
      let claimRecords = 0;
      let cursor = "0";
      do {
        const [next, found] = await w.redis.scan(cursor, "MATCH", `${w.keys.claimPrefix}*`, "COUNT", 5000);
        cursor = next;
        claimRecords += found.length;
      } while (cursor !== "0");
      const s: Sample = {
        atS: Math.round((Date.now() - t0) / 1000),
        reconcilerRssMB: round(rssBytes(rec.pid) / 2 ** 20),
        gatewayRssMB: round(rssBytes(gw.pid) / 2 ** 20),
        reconcilerLagP99Ms: round((await lagP99(rec.metricsUrl)) * 1000),
        gatewayLagP99Ms: round((await lagP99(gw.metricsUrl)) * 1000),
        redisUsedMB: round(used / 2 ** 20, 3),
        claimRecords,
        claimsServed: traffic.ledger.served.length,
      };
      samples.push(s);
      console.log(JSON.stringify(s));
    }
    const ledger = await traffic.stop();
    await sleep(3_000);
    const verdict = await checkInvariants({
      redis: w.redis,
      endpoint: w.emu.endpoint,
      pool: w.pool,
      sampler,
      served: ledger.served,
    });
    const redis = drift(samples, "redisUsedMB");
    const records = drift(samples, "claimRecords");
    const report = {
      startedAt: new Date(t0).toISOString(),
      durationS: Math.round((Date.now() - t0) / 1000),
      clients: args.clients,
      desired,
      claimsServed: ledger.served.length,
      answers: ledger.byStatus,
      unclearAnswers: ledger.unclear.length,
      drift: {
        reconcilerRssMB: drift(samples, "reconcilerRssMB"),
        gatewayRssMB: drift(samples, "gatewayRssMB"),
        reconcilerLagP99Ms: drift(samples, "reconcilerLagP99Ms"),
        gatewayLagP99Ms: drift(samples, "gatewayLagP99Ms"),
        redisUsedMB: redis,
        claimRecords: records,
        /** Redis growth per retained claim record (ended claims are kept 24 h). */
        redisBytesPerRetainedClaim:
          records.change > 0 ? Math.round((redis.change * 2 ** 20) / records.change) : null,
      },
      invariants: verdict,
      samples,
    };
    // Flat means flat: judged on the last third against the first (after a fifth of warm-up).
    const leaks = judgeDrift(report.drift);
    writeFileSync(args.report, `${JSON.stringify({ ...report, leaks }, null, 2)}\n`);
    console.log(
      JSON.stringify({ ...report, leaks, samples: `${samples.length} in ${args.report}` }, null, 2),
    );
    for (const l of leaks) console.error(`soak: NOT FLAT: ${l}`);
    if (verdict.violations.length || ledger.unclear.length || leaks.length) process.exitCode = 1;
  } finally {
    await w.close();
  }
}

await main();
