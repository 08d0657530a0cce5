/**
 * The gateway as its own process for the benchmark (as deployed: one process, its own event
 * loop): runGateway on a free port, prints its URL as one line, and answers until SIGTERM.
 *
 * It measures itself, so the bench can say where the gateway's time goes: each line `stats` on
 * stdin is answered with one JSON line on stdout — CPU (process.cpuUsage, user + system µs),
 * the event-loop delay histogram (perf_hooks.monitorEventLoopDelay, 1 ms resolution), event-loop
 * utilisation, and GC pauses by kind (PerformanceObserver "gc") since the previous `stats`.
 *
 *   node dist/test/bench/gateway-process.js <redisUrl> <pool> <token>
 */
import { createInterface } from "node:readline";
import {
  PerformanceObserver,
  monitorEventLoopDelay,
  performance,
  type EventLoopUtilization,
} from "node:perf_hooks";
import { runGateway } from "../../pkg/gateway/index.js";

export interface GatewayProcessStats {
  cpuUs: number;
  eventLoopDelayMs: { p50: number; p99: number; max: number; samples: number };
  eventLoopUtilization: number;
  gc: { count: number; totalMs: number; maxMs: number; byKind: Record<string, number> };
}

const [redisUrl, pool, tokens] = process.argv.slice(2);
if (!redisUrl || !pool || !tokens) throw new Error("usage: gateway-process <redisUrl> <pool> <token>");
const gw = await runGateway({
  pool,
  redisUrl,
  host: "127.0.0.1",
  port: 0,
  tokens,
  defaultLeaseSeconds: 300,
  defaultWaitMs: 0,
  maxWaitMs: 60_000,
  readyTimeoutMs: 30_000,
  retryAfterSeconds: 1,
});

const eld = monitorEventLoopDelay({ resolution: 1 });
eld.enable();
const GC_KINDS: Record<number, string> = { 1: "minor", 2: "major", 4: "incremental", 8: "weakcb" };
let gc = { count: 0, totalMs: 0, maxMs: 0, byKind: {} as Record<string, number> };
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    gc.count++;
    gc.totalMs += e.duration;
    gc.maxMs = Math.max(gc.maxMs, e.duration);
    const kind = GC_KINDS[(e as unknown as { detail?: { kind?: number } }).detail?.kind ?? 0] ?? "other";
    gc.byKind[kind] = (gc.byKind[kind] ?? 0) + 1;
  }
}).observe({ entryTypes: ["gc"] });
let cpu0 = process.cpuUsage();
let elu0: EventLoopUtilization = performance.eventLoopUtilization();

createInterface({ input: process.stdin }).on("line", (line) => {
  if (line.trim() !== "stats") return;
  const cpu = process.cpuUsage(cpu0);
  const ms = (ns: number): number => Math.round(ns / 1e4) / 100;
  const stats: GatewayProcessStats = {
    cpuUs: cpu.user + cpu.system,
    eventLoopDelayMs: {
      p50: ms(eld.percentile(50)),
      p99: ms(eld.percentile(99)),
      max: ms(eld.max),
      samples: eld.count,
    },
    eventLoopUtilization: Math.round(performance.eventLoopUtilization(elu0).utilization * 1000) / 1000,
    gc: { ...gc, totalMs: Math.round(gc.totalMs * 10) / 10, maxMs: Math.round(gc.maxMs * 100) / 100 },
  };
  process.stdout.write(`${JSON.stringify(stats)}\n`);
  cpu0 = process.cpuUsage();
  elu0 = performance.eventLoopUtilization();
  eld.reset();
  gc = { count: 0, totalMs: 0, maxMs: 0, byKind: {} };
});

process.stdout.write(`${gw.url}\n`);
process.once("SIGTERM", () => {
  void gw.close().then(() => process.exit(0));
});
