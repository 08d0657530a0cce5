/**
 * The warm-target policy in desired state: `policy` (static | adaptive) and the `adaptive` block
 * (pkg/policy's parameters), validated with the same strict rules as every other field.
 */
import { describe, expect, it } from "vitest";
import { runRejectCases, type RejectCase } from "./config-fixtures.js";
import { DEFAULT_ADAPTIVE, DEFAULT_DESIRED, LIMITS, validateDesiredState } from "../../pkg/config/index.js";

const rejects: RejectCase[] = [
  {
    description: "policy must be one of the known words",
    input: { policy: "dynamic" },
    expected: [{ field: "policy", rule: "enum", says: /one of static, adaptive \(got string "dynamic"\)/ }],
  },
  {
    description: "policy is case-sensitive",
    input: { policy: "Adaptive" },
    expected: [{ field: "policy", rule: "enum" }],
  },
  {
    description: "policy of the wrong type",
    input: { policy: true },
    expected: [{ field: "policy", rule: "enum", says: /got boolean true/ }],
  },
  {
    description: "a misspelt policy field suggests the name",
    input: { polcy: "adaptive" },
    expected: [{ field: "polcy", rule: "unknown-field", says: /did you mean `policy`\?/ }],
  },
  {
    description: "adaptive must be an object",
    input: { adaptive: true },
    expected: [{ field: "adaptive", rule: "type", says: /windowSeconds, targetHitRate/ }],
  },
  {
    description: "unknown adaptive fields are named with the closest known one",
    input: { adaptive: { windowSecond: 60, targetHitrate: 0.99 } },
    expected: [
      { field: "adaptive.windowSecond", rule: "unknown-field", says: /`adaptive.windowSeconds`/ },
      { field: "adaptive.targetHitrate", rule: "unknown-field", says: /`adaptive.targetHitRate`/ },
    ],
  },
  {
    description: "windowSeconds must be above 0",
    input: { adaptive: { windowSeconds: 0 } },
    expected: [{ field: "adaptive.windowSeconds", rule: "min", says: /at least 1 \(got 0\)/ }],
  },
  {
    description: "windowSeconds written in milliseconds names its bound",
    input: { adaptive: { windowSeconds: 120_000 } },
    expected: [{ field: "adaptive.windowSeconds", rule: "max", says: /at most 3,600/ }],
  },
  {
    description: "windowSeconds in whole seconds",
    input: { adaptive: { windowSeconds: 1.5 } },
    expected: [{ field: "adaptive.windowSeconds", rule: "integer", says: /whole seconds/ }],
  },
  {
    description: "targetHitRate of 1 is refused: no finite pool promises every claim",
    input: { adaptive: { targetHitRate: 1 } },
    expected: [{ field: "adaptive.targetHitRate", rule: "max", says: /less than 1/ }],
  },
  {
    description: "targetHitRate as a percentage is refused",
    input: { adaptive: { targetHitRate: 99.5 } },
    expected: [{ field: "adaptive.targetHitRate", rule: "max", says: /got 99.5/ }],
  },
  {
    description: "targetHitRate of 0",
    input: { adaptive: { targetHitRate: 0 } },
    expected: [{ field: "adaptive.targetHitRate", rule: "min", says: /greater than 0/ }],
  },
  {
    description: "targetHitRate as a string",
    input: { adaptive: { targetHitRate: "0.99" } },
    expected: [{ field: "adaptive.targetHitRate", rule: "type", says: /got string "0.99"/ }],
  },
  {
    description: "scaleDownDelaySeconds below 0",
    input: { adaptive: { scaleDownDelaySeconds: -1 } },
    expected: [{ field: "adaptive.scaleDownDelaySeconds", rule: "min", says: /at least 0/ }],
  },
  {
    description: "scaleDownDelaySeconds beyond a day",
    input: { adaptive: { scaleDownDelaySeconds: 600_000 } },
    expected: [{ field: "adaptive.scaleDownDelaySeconds", rule: "max", says: /86,400/ }],
  },
  {
    description: "every problem at once, in the block and beside it",
    input: {
      policy: "auto",
      minWarm: "5",
      adaptive: { windowSeconds: -5, targetHitRate: 2, scaleDownDelaySeconds: null, extra: 1 },
    },
    expected: [
      { field: "policy", rule: "enum" },
      { field: "minWarm", rule: "type" },
      { field: "adaptive.extra", rule: "unknown-field", says: /known fields are adaptive.windowSeconds/ },
      { field: "adaptive.windowSeconds", rule: "min" },
      { field: "adaptive.targetHitRate", rule: "max" },
      { field: "adaptive.scaleDownDelaySeconds", rule: "type", says: /got null/ },
    ],
  },
];

describe("validateDesiredState: policy and adaptive rejects", () => {
  runRejectCases(rejects);
});

describe("validateDesiredState: policy and adaptive accepts", () => {
  it("defaults: static, with the tuned adaptive parameters filled in", () => {
    const r = validateDesiredState({});
    expect(r).toEqual({ ok: true, value: DEFAULT_DESIRED });
    expect(DEFAULT_DESIRED.policy).toBe("static");
    expect(DEFAULT_DESIRED.adaptive).toEqual({
      windowSeconds: 120,
      targetHitRate: 0.995,
      scaleDownDelaySeconds: 600,
    });
  });

  it("policy adaptive without a block takes every adaptive default", () => {
    const r = validateDesiredState({ policy: "adaptive" });
    expect(r).toEqual({
      ok: true,
      value: { ...DEFAULT_DESIRED, policy: "adaptive", adaptive: DEFAULT_ADAPTIVE },
    });
  });

  it("a partial block keeps what was given and fills the rest", () => {
    const r = validateDesiredState({ policy: "adaptive", adaptive: { targetHitRate: 0.99 } });
    expect(r.ok && r.value.adaptive).toEqual({ ...DEFAULT_ADAPTIVE, targetHitRate: 0.99 });
  });

  it("an adaptive block under policy static is kept, ready for a switch", () => {
    const adaptive = { windowSeconds: 60, targetHitRate: 0.9, scaleDownDelaySeconds: 0 };
    const r = validateDesiredState({ adaptive });
    expect(r).toEqual({ ok: true, value: { ...DEFAULT_DESIRED, adaptive } });
  });

  it("every bound itself", () => {
    const L = LIMITS.adaptive;
    for (const adaptive of [
      { windowSeconds: L.windowSeconds.min, scaleDownDelaySeconds: L.scaleDownDelaySeconds.min },
      { windowSeconds: L.windowSeconds.max, scaleDownDelaySeconds: L.scaleDownDelaySeconds.max },
      { targetHitRate: Number.EPSILON },
      { targetHitRate: 1 - Number.EPSILON },
    ]) {
      expect(validateDesiredState({ adaptive }).ok, JSON.stringify(adaptive)).toBe(true);
    }
  });

  it("the defaults are not shared: changing one validated value leaves DEFAULT_DESIRED alone", () => {
    const r = validateDesiredState({});
    if (!r.ok) throw new Error("defaults must validate");
    r.value.adaptive.windowSeconds = 5;
    expect(DEFAULT_DESIRED.adaptive.windowSeconds).toBe(120);
    expect(DEFAULT_ADAPTIVE.windowSeconds).toBe(120);
  });
});
