/** Shared table runner of the desired-state validation tests. */
import { expect, it } from "vitest";
import { validateDesiredState, type ConfigError } from "../../pkg/config/index.js";

export type Expect = { field: string; rule: string; says?: RegExp }[];
export interface RejectCase {
  description: string;
  input: unknown;
  expected: Expect;
}

/** One `it` per case: exactly the expected field/rule pairs, each message naming its field. */
export function runRejectCases(rejects: RejectCase[]): void {
  for (const tc of rejects) {
    it(tc.description, () => {
      const r = validateDesiredState(tc.input);
      expect(r.ok).toBe(false);
      const errors = (r as { errors: ConfigError[] }).errors;
      expect(errors.map((e) => `${e.field}/${e.rule}`).sort()).toEqual(
        tc.expected.map((e) => `${e.field}/${e.rule}`).sort(),
      );
      for (const e of tc.expected) {
        const got = errors.find((x) => x.field === e.field && x.rule === e.rule)!;
        expect(got.message.startsWith(`${e.field}: `)).toBe(true);
        if (e.says) expect(got.message).toMatch(e.says);
      }
    });
  }
}
