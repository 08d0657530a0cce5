import { describe, expect, it } from "vitest";
import {
  ArrivalRateWindow,
  POLICY_METRICS,
  StartTimeWindow,
  adaptiveTarget,
  poissonCdf,
  poissonQuantile,
  type AdaptiveParams,
} from "../../pkg/policy/index.js";

const P: AdaptiveParams = {
  minWarm: 3,
  maxWarm: 200,
  targetHitRate: 0.995,
  scaleDownDelayMs: 600_000,
  refillDelayMs: 0,
};

describe("poisson", () => {
  // Reference values: Poisson(1) cdf 0.3679 0.7358 0.9197 0.9810 0.99634 0.99941;
  // Poisson(10) cdf(18) = 0.99281, cdf(19) = 0.99655.
  it.each([
    { level: 0.3, mean: 1, k: 0 },
    { level: 0.9, mean: 1, k: 2 },
    { level: 0.995, mean: 1, k: 4 },
    { level: 0.999, mean: 1, k: 5 },
    { level: 0.995, mean: 10, k: 19 },
    { level: 0.99, mean: 10, k: 18 },
    { level: 0.5, mean: 0, k: 0 },
  ])("quantile($level, $mean) = $k", ({ level, mean, k }) => {
    expect(poissonQuantile(level, mean)).toBe(k);
  });

  it("agrees with the normal approximation for large means and its cdf is consistent", () => {
    const k = poissonQuantile(0.995, 1000);
    expect(Math.abs(k - (1000 + 2.5758 * Math.sqrt(1000)))).toBeLessThan(3);
    expect(poissonCdf(k, 1000)).toBeGreaterThanOrEqual(0.995);
    expect(poissonCdf(k - 1, 1000)).toBeLessThan(0.995);
  });

  it("rejects a level outside [0, 1) and a bad mean, naming them", () => {
    expect(() => poissonQuantile(1, 3)).toThrow(/level/);
    expect(() => poissonQuantile(0.5, -1)).toThrow(/mean/);
  });
});

describe("adaptiveTarget (table)", () => {
  it.each([
    { d: "no demand: the floor", rate: 0, p90: 12_000, refill: 0, raw: 0, target: 3 },
    { d: "0.1/s × 10 s = 1 expected → q99.5 4, +1", rate: 0.1, p90: 10_000, refill: 0, raw: 5, target: 5 },
    { d: "refill delay adds to the lead time", rate: 0.1, p90: 5_000, refill: 5_000, raw: 5, target: 5 },
    { d: "1/s × 10 s = 10 expected → q99.5 19, +1", rate: 1, p90: 10_000, refill: 0, raw: 20, target: 20 },
    { d: "tiny demand stays at the floor", rate: 0.01, p90: 10_000, refill: 0, raw: 2, target: 3 },
    { d: "huge demand clamps to maxWarm", rate: 100, p90: 20_000, refill: 0, raw: 2_117, target: 200 },
  ])("$d", ({ rate, p90, refill, raw, target }) => {
    const d = adaptiveTarget(
      { ...P, refillDelayMs: refill },
      { arrivalRatePerS: rate, startP90Ms: p90, nowMs: 0 },
    );
    if (raw < 1000) expect(d.raw).toBe(raw);
    else expect(Math.abs(d.raw - raw)).toBeLessThan(5);
    expect(d.target).toBe(target);
    expect(d.explanation).toContain(`adaptive target ${target}`);
  });

  it("goes up at once, and down only once every higher target is older than the delay", () => {
    const at = (rate: number, nowMs: number, prev?: ReturnType<typeof adaptiveTarget>) =>
      adaptiveTarget(P, { arrivalRatePerS: rate, startP90Ms: 10_000, nowMs, previous: prev?.state });
    const a = at(0.1, 0); // raw 5
    const b = at(1, 1_000, a); // raw 20: up at once
    expect(b.target).toBe(20);
    const c = at(0.1, 300_000, b); // lower demand, 5 min later: held
    expect(c.target).toBe(20);
    expect(c.raw).toBe(5);
    expect(c.explanation).toMatch(/held at 20/);
    const d = at(0.5, 500_000, c); // raw for 5 expected
    expect(d.target).toBe(20);
    const e = at(0.1, 601_001, d); // the 20 is now older than the delay; the 0.5/s peak is not
    expect(e.target).toBe(d.raw);
    const f = at(0.1, 1_100_001, e); // and that one expires too
    expect(f.target).toBe(5);
  });

  it("with no delay follows demand down immediately", () => {
    const p = { ...P, scaleDownDelayMs: 0 };
    const a = adaptiveTarget(p, { arrivalRatePerS: 1, startP90Ms: 10_000, nowMs: 0 });
    const b = adaptiveTarget(p, { arrivalRatePerS: 0.1, startP90Ms: 10_000, nowMs: 1, previous: a.state });
    expect(b.target).toBe(5);
  });

  it("is pure: the same inputs give the same decision, and the previous state is not mutated", () => {
    const a = adaptiveTarget(P, { arrivalRatePerS: 1, startP90Ms: 10_000, nowMs: 0 });
    const frozen = JSON.stringify(a.state);
    const b1 = adaptiveTarget(P, { arrivalRatePerS: 0.2, startP90Ms: 9_000, nowMs: 10, previous: a.state });
    const b2 = adaptiveTarget(P, { arrivalRatePerS: 0.2, startP90Ms: 9_000, nowMs: 10, previous: a.state });
    expect(b1).toEqual(b2);
    expect(JSON.stringify(a.state)).toBe(frozen);
  });

  it.each([
    { over: { minWarm: -1 }, field: "minWarm" },
    { over: { maxWarm: 2 }, field: "maxWarm" },
    { over: { targetHitRate: 1 }, field: "targetHitRate" },
    { over: { scaleDownDelayMs: Number.NaN }, field: "scaleDownDelayMs" },
    { over: { refillDelayMs: -5 }, field: "refillDelayMs" },
  ])("rejects bad $field with a message naming it", ({ over, field }) => {
    expect(() => adaptiveTarget({ ...P, ...over }, { arrivalRatePerS: 1, startP90Ms: 1, nowMs: 0 })).toThrow(
      new RegExp(field),
    );
  });

  it("rejects bad inputs naming them", () => {
    expect(() => adaptiveTarget(P, { arrivalRatePerS: -1, startP90Ms: 1, nowMs: 0 })).toThrow(
      /arrivalRatePerS/,
    );
    expect(() => adaptiveTarget(P, { arrivalRatePerS: 1, startP90Ms: Infinity, nowMs: 0 })).toThrow(
      /startP90Ms/,
    );
  });
});

describe("measurement windows", () => {
  it("arrival rate counts the claims inside the window only", () => {
    const w = new ArrivalRateWindow(60_000);
    for (let t = 0; t < 120_000; t += 2_000) w.record(t); // 0.5/s
    expect(w.ratePerS(119_000)).toBeCloseTo(30 / 60, 6); // 60 000 … 118 000
    expect(w.ratePerS(150_000)).toBeCloseTo(14 / 60, 6); // 92 000 … 118 000
    expect(w.ratePerS(1_000_000)).toBe(0);
  });

  it("start p90 is the nearest-rank p90 of the last samples, the assumption before any", () => {
    const s = new StartTimeWindow(10, 15_000);
    expect(s.p90Ms()).toBe(15_000);
    for (let i = 1; i <= 10; i++) s.record(i * 1_000);
    expect(s.p90Ms()).toBe(9_000);
    for (let i = 0; i < 10; i++) s.record(20_000); // the old samples roll out
    expect(s.p90Ms()).toBe(20_000);
  });

  it("exports metric definitions with base-unit names and help text", () => {
    for (const m of POLICY_METRICS) {
      expect(m.name).toMatch(/^warmpool_policy_[a-z0-9_]+$/);
      expect(m.help.length).toBeGreaterThan(20);
    }
  });
});
