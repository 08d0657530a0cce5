/**
 * Latency figures for the benchmarks: percentiles that name their sample count, a closed-loop
 * driver, and targets that make `npm run bench` fail when one is missed.
 *
 * A percentile is only called by its name when the samples support it: p99 needs at least
 * 1,000 samples (10 above it), p90 at least 100; with fewer the figure is the largest sample and
 * says so (`max of n`).
 */
import { performance } from "node:perf_hooks";

/** Fewest samples for a figure to be called p99 (10 samples above it). */
export const MIN_SAMPLES_P99 = 1000;
/** Fewest samples for a figure to be called p90. */
export const MIN_SAMPLES_P90 = 100;

export interface LatencyFigures {
  samples: number;
  p50Ms: number;
  /** Absent (null) below MIN_SAMPLES_P90 samples. */
  p90Ms: number | null;
  /** Absent (null) below MIN_SAMPLES_P99 samples: then only maxMs names the tail. */
  p99Ms: number | null;
  maxMs: number;
  perSecond: number;
}

export function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

const r3 = (x: number): number => Math.round(x * 1000) / 1000;

/** Figures from raw latencies (ms) over a wall time (s). */
export function figures(lat: number[], wallSeconds: number): LatencyFigures {
  const s = [...lat].sort((a, b) => a - b);
  return {
    samples: s.length,
    p50Ms: r3(pct(s, 50)),
    p90Ms: s.length >= MIN_SAMPLES_P90 ? r3(pct(s, 90)) : null,
    p99Ms: s.length >= MIN_SAMPLES_P99 ? r3(pct(s, 99)) : null,
    maxMs: r3(s.at(-1) ?? NaN),
    perSecond: Math.round((s.length / wallSeconds) * 10) / 10,
  };
}

/** The tail figure the samples support: p99 when there are enough, else the max, with its name. */
export function tail(f: LatencyFigures): { name: string; ms: number } {
  if (f.p99Ms !== null) return { name: "p99", ms: f.p99Ms };
  return { name: `max of ${f.samples}`, ms: f.maxMs };
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
  const t = tail(f);
  const tailText =
    f.p99Ms !== null
      ? `p99 ${t.ms.toFixed(3).padStart(8)} ms`
      : `p90 ${f.p90Ms === null ? "   –" : f.p90Ms.toFixed(3)} ms  max ${t.ms.toFixed(3)} ms`;
  return (
    `p50 ${f.p50Ms.toFixed(3).padStart(7)} ms  ${tailText}  ` +
    `${Math.round(f.perSecond).toString().padStart(6)}/s  (n=${f.samples})`
  );
}

/** One stated target and whether this run met it. */
export interface TargetResult {
  /** Stable key, e.g. `claims.libraryAssign1.p50VsPing`. */
  id: string;
  /** The rule as stated, e.g. "library claim (→ Lua) p50, 1 caller ≤ 3× PING p50". */
  rule: string;
  value: number;
  op: "<=" | ">=" | "==";
  /** The limit this run was held to (tightened by BENCH_TIGHTEN when set). */
  limit: number;
  /** The limit as stated, before any tightening. */
  statedLimit: number;
  unit: string;
  ok: boolean;
}

/**
 * `BENCH_TIGHTEN=k` (k > 1) holds every latency target to limit / k and every rate target to
 * limit × k: a way to see the bench go red on a target out of reach. Exact counts (`==`) stay.
 */
export function tightenFactor(env: NodeJS.ProcessEnv = process.env): number {
  const v = env.BENCH_TIGHTEN;
  if (v === undefined || v === "") return 1;
  const k = Number(v);
  if (!Number.isFinite(k) || k <= 0) throw new Error(`BENCH_TIGHTEN: must be a positive number (got ${v})`);
  return k;
}

/** Collects the figures and targets of one bench run; run.ts writes them out and sets the exit code. */
export class BenchRecorder {
  readonly targets: TargetResult[] = [];
  readonly figures: Record<string, unknown> = {};

  constructor(private readonly k = tightenFactor()) {}

  /** Records a group of figures under `section` (merged into the JSON file). */
  record(section: string, value: unknown): void {
    this.figures[section] = value;
  }

  /**
   * States a target, checks it and prints a PASS/MISS line. A NaN value misses. Returns ok.
   */
  target(id: string, rule: string, value: number, op: "<=" | ">=" | "==", limit: number, unit = ""): boolean {
    const held = op === "<=" ? limit / this.k : op === ">=" ? limit * this.k : limit;
    const ok =
      Number.isFinite(value) && (op === "<=" ? value <= held : op === ">=" ? value >= held : value === held);
    const r3v = Math.round(value * 1000) / 1000;
    this.targets.push({
      id,
      rule,
      value: r3v,
      op,
      limit: Math.round(held * 1000) / 1000,
      statedLimit: limit,
      unit,
      ok,
    });
    const heldNote =
      held !== limit ? ` (held to ${op} ${Math.round(held * 1000) / 1000} by BENCH_TIGHTEN)` : "";
    console.log(`    ${ok ? "PASS" : "MISS"}  ${rule}: ${r3v}${unit ? ` ${unit}` : ""}${heldNote}`);
    return ok;
  }

  get missed(): TargetResult[] {
    return this.targets.filter((t) => !t.ok);
  }
}
