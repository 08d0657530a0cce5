import { describe, expect, it } from "vitest";
import { figures, pick } from "../chaos/mode.js";
import { runManyPools, TARGET } from "./many-pools-scenario.js";

const N = 50;
/** The budget the whole account gets in this test (calls/s), well below ECS's 20 and 40. */
const READ_RATE = 10;
const WRITE_RATE = 6;

/**
 * 50 pools in one reconciler process against the emulator at ECS's default buckets (the scenario:
 * many-pools-scenario.ts). What must hold, from ground truth: every pool at its exact target; the
 * ECS calls of all of them within the shared budget's bound; under a claim burst on one pool every
 * other pool's refill is still served (a RunTask follows each probe's claim) and every pool is
 * exact again afterwards. How fast those refills are, quiet and under the burst, is measured by
 * `npm run bench -- --fleet` (test/bench/fleet-bench.ts), not asserted here.
 */
describe("many pools in one reconciler process (real Redis, emulator over HTTP)", () => {
  it(`${N} pools reach their exact targets within the shared budget; a burst on one pool leaves the others' refills served`, async () => {
    const r = await runManyPools({
      pools: N,
      quietProbes: pick(3, 6),
      burstProbes: pick(3, 6),
      burstWorkers: 30,
      burstLeadMs: pick(5_000, 20_000),
      readRate: READ_RATE,
      writeRate: WRITE_RATE,
      convergeTimeoutMs: pick(45_000, 90_000),
      log: process.env.WARMPOOL_TEST_LOG ?? "silent",
    });
    figures("many-pools", {
      pools: r.pools,
      target: TARGET,
      convergedMs: r.convergedMs,
      quietMs: r.quietMs,
      burstMs: r.burstMs,
      busyServed: r.busyServed,
      burstWritesPerS: r.burstWritesPerS,
      elapsedS: Math.round(r.elapsedS * 10) / 10,
      reads: r.reads,
      writes: r.writes,
      throttled: r.throttled,
      busyAfter: r.busyAfter,
    });
    // Served, not starved: every probe's claim was followed by its pool's refill, quiet or not.
    expect(r.quietMs.every((ms) => ms !== undefined)).toBe(true);
    expect(r.burstMs.every((ms) => ms !== undefined)).toBe(true);
    expect(r.busyServed).toBeGreaterThan(0);
    // Settled: every pool at its exact count (target + a probe's held claim; the busy pool's
    // tasks exactly its records).
    expect(r.offAfter).toEqual({});
    expect(r.busyExact, r.busyAfter).toBe(true);
    // GCRA: over any window the budget lets through at most rate × t + burst (burst = ⌈rate⌉).
    expect(r.reads).toBeLessThanOrEqual(READ_RATE * r.elapsedS + READ_RATE);
    expect(r.writes).toBeLessThanOrEqual(WRITE_RATE * r.elapsedS + WRITE_RATE);
    expect(r.writes).toBeGreaterThanOrEqual(N); // at least one RunTask per pool
  }, 180_000);
});
