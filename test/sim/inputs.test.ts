import { describe, expect, it } from "vitest";
import {
  SIM_DEFAULTS,
  chartSvg,
  defaultScenario,
  parseTrace,
  rateFunction,
  runSim,
  scenarioFromFlags,
  table,
} from "../../pkg/sim/index.js";
import { shortScenario } from "./helpers.js";

describe("trace replay", () => {
  it("parses seconds and ISO times, with or without a header", () => {
    expect(parseTrace("claim_at,session_s\n0,10\n1.5,20\n")).toEqual([
      { atMs: 0, sessionMs: 10_000 },
      { atMs: 1500, sessionMs: 20_000 },
    ]);
    expect(parseTrace("2026-01-01T00:00:00Z,5\n# note\n\n2026-01-01T00:00:02.500Z,6")).toEqual([
      { atMs: 0, sessionMs: 5_000 },
      { atMs: 2_500, sessionMs: 6_000 },
    ]);
  });

  it.each([
    { text: "0,10\nabc,5", msg: /t\.csv:2: claim_at/ },
    { text: "0,10\n1,-3", msg: /t\.csv:2: session_s/ },
    { text: "5,10\n1,3", msg: /t\.csv:2: claim_at: rows must be in time order/ },
    { text: "0", msg: /t\.csv:1: expected 2 columns/ },
    { text: "claim_at,session_s\n", msg: /no claims/ },
  ])("rejects bad rows naming the line and field: $msg", ({ text, msg }) => {
    expect(() => parseTrace(text, "t.csv")).toThrow(msg);
  });

  it("replays exactly the claims of the trace", () => {
    const claims = Array.from({ length: 500 }, (_, i) => ({ atMs: i * 2_000, sessionMs: 60_000 }));
    const r = runSim(defaultScenario({ durationMs: 1_200_000, demand: { kind: "trace", claims } })).result;
    expect(r.claims).toBe(500);
  });
});

describe("rate profiles", () => {
  it("diurnal peaks at the peak hour with the asked peak/trough ratio", () => {
    const f = rateFunction({ kind: "diurnal", meanPerS: 1, peakToTrough: 8, peakHour: 15 }, 86_400_000, 1);
    expect(f.rateAt(15 * 3_600_000) / f.rateAt(3 * 3_600_000)).toBeCloseTo(8, 6);
  });
  it("bursty rises to multiplier × base inside a burst", () => {
    const f = rateFunction(
      { kind: "bursty", baseRatePerS: 1, burstsPerDay: 24, multiplier: 4, burstMs: 600_000, rampMs: 60_000 },
      86_400_000,
      3,
    );
    const samples = Array.from({ length: 86_400 }, (_, i) => f.rateAt(i * 1000));
    expect(Math.max(...samples)).toBeCloseTo(4, 6);
    expect(Math.min(...samples)).toBe(1);
  });
});

describe("flags and outputs", () => {
  it("bad flags are reported together, each naming the flag", () => {
    expect(() =>
      scenarioFromFlags({
        ...SIM_DEFAULTS,
        policy: "magic",
        minWarm: 30,
        maxWarm: 10,
        hours: -1,
        targetHitRate: 2,
      }),
    ).toThrow(/--policy[\s\S]*--hours/);
    expect(() => scenarioFromFlags({ ...SIM_DEFAULTS, policy: "adaptive", targetHitRate: 2 })).toThrow(
      /--target-hit-rate/,
    );
    expect(() => scenarioFromFlags({ ...SIM_DEFAULTS, startMedian: 10, startP90: 5 })).toThrow(
      /--start-p90: must be ≥ --start-median \(10 s\), got 5 s/,
    );
    expect(() => scenarioFromFlags({ ...SIM_DEFAULTS, minWarm: 30, maxWarm: 10 })).toThrow(
      /minWarm \(30\) ≤ maxWarm \(10\)/,
    );
  });

  it("renders a table and an SVG chart of a run", () => {
    const r = runSim(shortScenario({ durationMs: 3_600_000 })).result;
    expect(table([r])).toMatch(/warm hits[\s\S]*static 10\/20\/3/);
    const svg = chartSvg("t", [r]);
    expect(svg.startsWith("<svg")).toBe(true);
    expect(svg.match(/<polyline/g)?.length).toBe(4); // demand, warm, target, wait
    expect(svg.trim().endsWith("</svg>")).toBe(true);
  });
});
