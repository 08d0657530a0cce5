/**
 * Strict validation of the desired state (DESIGN §5) against its one schema (schema.ts). It
 * reports every problem at once (Agones' `validate() []error`): on-call fixes a bad config in one
 * edit, not one error per try. Missing fields take DEFAULT_DESIRED; unknown fields are errors with
 * the closest known name.
 */
import type { z } from "zod";
import {
  AdaptiveSchema,
  AsgSchema,
  DesiredStateFields,
  DesiredStateSchema,
  invariantIssues,
} from "./schema.js";
import { closestName } from "./suggest.js";
import type { DesiredState } from "./types.js";

export { DEFAULT_ASG } from "./schema.js";

export type ConfigRule =
  | "json" // not parseable JSON
  | "type" // wrong JSON type
  | "unknown-field" // a field the schema does not know (typo)
  | "required" // a field that has no default is missing
  | "integer" // a count with a fraction
  | "min" // below the lower bound
  | "max" // above the upper bound
  | "enum" // not one of the allowed words
  | "format" // a string of the wrong shape
  | "invariant" // a relation between fields does not hold
  | "exists"; // names something that must exist outside Redis (a task definition ECS has)

export interface ConfigError {
  /** Dotted path of the field (`minWarm`, `asg.groupName`); `$` is the document itself. */
  field: string;
  rule: ConfigRule;
  /** `<field>: <what is wrong> (<what was given>)`, fit for a log line as is. */
  message: string;
}

export type ValidationResult = { ok: true; value: DesiredState } | { ok: false; errors: ConfigError[] };

/** The names each object of the document knows, for "did you mean". */
const KNOWN: Record<string, readonly string[]> = {
  "": Object.keys(DesiredStateFields.shape),
  adaptive: Object.keys(AdaptiveSchema.shape),
  asg: Object.keys(AsgSchema.shape),
};

/** Validates already-parsed input (e.g. `JSON.parse` of the `config` key). Never throws. */
export function validateDesiredState(input: unknown): ValidationResult {
  const r = DesiredStateSchema.safeParse(input, { reportInput: true });
  if (r.success) return { ok: true, value: r.data };
  const invariants = invariantIssues(input).map((i): z.core.$ZodIssue => ({
    code: "custom",
    input,
    ...i,
    params: { rule: "invariant" },
  }));
  return { ok: false, errors: toConfigErrors([...r.error.issues, ...invariants]) };
}

/** zod issues → one ConfigError per field (the first problem of each), every unknown key named. */
export function toConfigErrors(issues: readonly z.core.$ZodIssue[]): ConfigError[] {
  const errors: ConfigError[] = [];
  const seen = new Set<string>();
  for (const issue of issues) {
    const at = issue.path.map(String).join(".");
    if (issue.code === "unrecognized_keys") {
      const prefix = at === "" ? "" : `${at}.`;
      const known = KNOWN[at] ?? [];
      for (const key of issue.keys) {
        const guess = closestName(key, known);
        const field = `${prefix}${key}`;
        errors.push({
          field,
          rule: "unknown-field",
          message: `${field}: ${
            guess
              ? `unknown field; did you mean \`${prefix}${guess}\`?`
              : `unknown field; known fields are ${known.map((k) => prefix + k).join(", ")}`
          }`,
        });
      }
      continue;
    }
    const field = at === "" ? "$" : at;
    const rule = ruleOf(issue);
    const key = `${field}/${rule === "invariant" ? "invariant" : "value"}`;
    if (seen.has(key)) continue;
    seen.add(key);
    errors.push({ field, rule, message: `${field}: ${issue.message}` });
  }
  return errors;
}

function ruleOf(issue: z.core.$ZodIssue): ConfigRule {
  switch (issue.code) {
    case "invalid_type":
      if (issue.input === undefined) return "required";
      return issue.expected === "int" && typeof issue.input === "number" ? "integer" : "type";
    case "too_small":
      return "min";
    case "too_big":
      return "max";
    case "invalid_value":
      return "enum";
    case "invalid_format":
      return "format";
    case "custom":
      return (issue.params?.rule as ConfigRule | undefined) ?? "invariant";
    default:
      return "type";
  }
}

/** One line for a log or a CLI error: every problem, `; `-separated. */
export function formatConfigErrors(errors: readonly ConfigError[]): string {
  return errors.map((e) => `${e.message} [${e.rule}]`).join("; ");
}
