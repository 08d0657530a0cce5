/** Latency figures for the benchmarks: percentiles, a closed-loop driver, and PASS/MISS lines. */
import { performance } from "node:perf_hooks";

export interface LatencyFigures {
  p50Ms: number;
  p99Ms: number;
  perSecond: number;
  samples: number;
}

export function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

/** Figures from raw latencies (ms) over a wall time (s). */
export function figures(lat: number[], wallSeconds: number): LatencyFigures {
  const s = [...lat].sort((a, b) => a - b);
  return { p50Ms: pct(s, 50), p99Ms: pct(s, 99), perSecond: s.length / wallSeconds, samples: s.length };
}

/** Runs `op` `total` times from `concurrency` callers, each starting its next call when one ends. */
export async function measure(
  total: number,
  concurrency: number,
  op: () => Promise<unknown>,
): Promise<LatencyFigures> {
  const lat: number[] = [];
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next++ < total) {
        const s = performance.now();
        await op();
        lat.push(performance.now() - s);
      }
    }),
  );
  return figures(lat, (performance.now() - t0) / 1000);
}

/**
 * One caller, `rounds` rounds of every op in turn: each op's figures come from the same stretch
 * of time as the others', so a shared machine's noise hits the floor (PING) and the thing
 * measured against it alike. `perSecond` is each op's own rate (1 / its mean latency).
 */
export async function measureInterleaved(
  rounds: number,
  ops: (() => Promise<unknown>)[],
): Promise<LatencyFigures[]> {
  const lat = ops.map(() => [] as number[]);
  for (let i = 0; i < rounds; i++) {
    for (const [k, op] of ops.entries()) {
      const s = performance.now();
      await op();
      lat[k]!.push(performance.now() - s);
    }
  }
  return lat.map((l) => figures(l, l.reduce((a, b) => a + b, 0) / 1000));
}

export function fmt(f: LatencyFigures): string {
  return (
    `p50 ${f.p50Ms.toFixed(3).padStart(7)} ms  p99 ${f.p99Ms.toFixed(3).padStart(8)} ms  ` +
    `${Math.round(f.perSecond).toString().padStart(6)}/s  (n=${f.samples})`
  );
}

/** "PASS"/"MISS" with the rule, for the line printed under a figure. */
export function target(ok: boolean, rule: string): string {
  return `    ${ok ? "PASS" : "MISS"}  ${rule}`;
}
