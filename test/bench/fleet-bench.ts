/**
 * Issue 15's measurement: 50 pools in one reconciler process against the emulator at ECS's
 * default buckets, every ECS call spent from the shared budget (test/fleet/many-pools-scenario.ts).
 * Claim → first RunTask of a pool's refill while nothing else happens, then while one busy pool
 * claims and releases as fast as 30 workers can; the busy pool is held to its share of the budget,
 * so the others' p99 should stay within 2× of the quiet figure. Also: time to every pool at its
 * exact target, and the ECS calls/s of the whole run against the budget (emulator counts).
 *
 * `npm run bench -- --fleet` (or BENCH_FLEET=1). BENCH_FLEET_POOLS (default 50),
 * BENCH_FLEET_PROBES per phase (default 20), BENCH_FLEET_READ / BENCH_FLEET_WRITE (the budget,
 * default 10 and 6 calls/s), BENCH_FLEET_BURST_LEAD_MS (default 10000).
 */
import { pct } from "./bench-stats.js";
import { runManyPools, type ManyPoolsResult } from "../fleet/many-pools-scenario.js";

export interface FleetBenchResult extends ManyPoolsResult {
  quietP50Ms: number;
  quietP99Ms: number;
  burstP50Ms: number;
  burstP99Ms: number;
  pass: boolean;
}

const num = (v: string | undefined, d: number): number => (v ? Number(v) : d);

export async function runFleetBench(): Promise<FleetBenchResult | undefined> {
  if (!process.argv.includes("--fleet") && !process.env.BENCH_FLEET) {
    console.log("fleet bench: skipped (run `npm run bench -- --fleet`; it takes ~2 minutes)");
    return undefined;
  }
  process.env.AWS_ACCESS_KEY_ID ||= "bench";
  process.env.AWS_SECRET_ACCESS_KEY ||= "bench";
  const pools = num(process.env.BENCH_FLEET_POOLS, 50);
  const probes = num(process.env.BENCH_FLEET_PROBES, 20);
  const readRate = num(process.env.BENCH_FLEET_READ, 10);
  const writeRate = num(process.env.BENCH_FLEET_WRITE, 6);
  console.log(
    `fleet bench: ${pools} pools, budget ${readRate} reads/s + ${writeRate} writes/s, ${probes} probes quiet and ${probes} under a burst …`,
  );
  const r = await runManyPools({
    pools,
    quietProbes: probes,
    burstProbes: probes,
    burstWorkers: 30,
    burstLeadMs: num(process.env.BENCH_FLEET_BURST_LEAD_MS, 10_000),
    readRate,
    writeRate,
    convergeTimeoutMs: 120_000,
    log: process.env.BENCH_LOG ?? "silent",
  });
  const sorted = (xs: (number | undefined)[]): number[] => xs.map((x) => x ?? Infinity).sort((a, b) => a - b);
  const q = sorted(r.quietMs);
  const b = sorted(r.burstMs);
  const out: FleetBenchResult = {
    ...r,
    quietP50Ms: pct(q, 50),
    quietP99Ms: pct(q, 99),
    burstP50Ms: pct(b, 50),
    burstP99Ms: pct(b, 99),
    pass: false,
  };
  out.pass = out.burstP99Ms <= 2 * out.quietP99Ms;
  const s = r.elapsedS;
  console.log(
    [
      ``,
      `fleet bench (${pools} pools in one process, emulator at ECS's default buckets, shared budget ${readRate} + ${writeRate} calls/s):`,
      `| measure | value |`,
      `|---|---:|`,
      `| every pool at its exact target after | ${(r.convergedMs / 1000).toFixed(1)} s |`,
      `| ECS reads over the run | ${r.reads} (${(r.reads / s).toFixed(2)}/s of ${readRate}) |`,
      `| ECS writes over the run | ${r.writes} (${(r.writes / s).toFixed(2)}/s of ${writeRate}) |`,
      `| throttled by ECS | ${r.throttled} |`,
      `| claim → first RunTask, quiet: p50 / p99 (${q.length} claims) | ${out.quietP50Ms} / ${out.quietP99Ms} ms |`,
      `| claim → first RunTask, under the burst: p50 / p99 (${b.length} claims) | ${out.burstP50Ms} / ${out.burstP99Ms} ms |`,
      `| busy pool: claims served during the burst (its writes/s) | ${r.busyServed} (${r.burstWritesPerS}/s) |`,
      `| every pool exact afterwards | ${Object.keys(r.offAfter).length === 0 && r.busyExact ? "yes" : `no: ${JSON.stringify(r.offAfter)} busy ${r.busyAfter}`} |`,
      ``,
      `${out.pass ? "PASS" : "MISS"}: burst p99 ${out.burstP99Ms} ms ${out.pass ? "≤" : ">"} 2 × quiet p99 ${out.quietP99Ms} ms`,
    ].join("\n"),
  );
  return out;
}
