import { describe, expect, it } from "vitest";
import {
  DEFAULT_DESIRED,
  DesiredStateTracker,
  parseDesiredState,
  type ConfigRead,
  type DesiredState,
} from "../../pkg/config/index.js";

/** A read of the key as ConfigStore.read() would return it for this raw value (null: missing). */
function read(raw: string | null): ConfigRead {
  if (raw === null) return { state: "missing" };
  const r = parseDesiredState(raw);
  return r.ok ? { state: "valid", value: r.value, raw } : { state: "invalid", errors: r.errors, raw };
}
const d = (over: Partial<DesiredState>): DesiredState => ({ ...DEFAULT_DESIRED, ...over });

describe("DesiredStateTracker", () => {
  it("walks a key through missing, valid, invalid, fixed and deleted, saying each thing once", () => {
    const t = new DesiredStateTracker();
    const steps: [string | null, Record<string, unknown>][] = [
      [
        null,
        {
          desired: DEFAULT_DESIRED,
          status: "missing",
          source: "defaults",
          changed: true,
          rawChanged: true,
          firstMissing: true,
        },
      ],
      [null, { desired: DEFAULT_DESIRED, changed: false, rawChanged: false, firstMissing: false }],
      [
        '{"minWarm":8}',
        {
          desired: d({ minWarm: 8 }),
          status: "valid",
          source: "config",
          changed: true,
          rawChanged: true,
          valid: true,
        },
      ],
      ['{"minWarm":8}', { changed: false, rawChanged: false }],
      // Same value, different spelling: a new raw to record, not a new desired state.
      ['{ "minWarm": 8 }', { changed: false, rawChanged: true }],
      [
        '{"minwarm":9}',
        {
          desired: d({ minWarm: 8 }),
          status: "invalid",
          valid: false,
          source: "last-good",
          changed: false,
          rawChanged: true,
        },
      ],
      ['{"minwarm":9}', { valid: false, rawChanged: false, changed: false }],
      ['{"minWarm":9}', { desired: d({ minWarm: 9 }), valid: true, changed: true, rawChanged: true }],
      [null, { desired: DEFAULT_DESIRED, firstMissing: true, changed: true }],
    ];
    for (const [raw, want] of steps) {
      expect(t.update(read(raw)), String(raw)).toMatchObject(want);
    }
  });

  it("reports the errors of an invalid value as data and as one line", () => {
    const u = new DesiredStateTracker().update(read('{"minWarm":30,"maxWarm":20,"x":1}'));
    expect(u.errors.map((e) => e.field).sort()).toEqual(["minWarm", "x"]);
    expect(u.rejection).toContain("x: unknown field");
    expect(u.rejection).toMatch(/minWarm: must be ≤ maxWarm .*\[invariant\]/);
    expect(u.rejection).not.toContain("\n");
    expect(u.source).toBe("defaults");
  });

  it("uses a seeded last good value when it starts on an invalid key", () => {
    const t = new DesiredStateTracker();
    t.seed(d({ minWarm: 12, maxWarm: 30 }));
    expect(t.update(read("{bad"))).toMatchObject({
      desired: d({ minWarm: 12, maxWarm: 30 }),
      source: "last-good",
    });
    // A seed never overrides a value actually seen.
    expect(t.update(read('{"minWarm":4}')).valid).toBe(true);
    t.seed(d({ minWarm: 1 }));
    expect(t.update(read("{bad")).desired.minWarm).toBe(4);
  });

  it("has the defaults in force before the first read", () => {
    expect(new DesiredStateTracker().desired).toEqual(DEFAULT_DESIRED);
  });
});
