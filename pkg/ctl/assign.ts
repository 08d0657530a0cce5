/**
 * `key=value` assignments of `ctl config set`: a value is read as JSON when it parses (`8`,
 * `true`, `null`), else as a string (`agent:7`); `null` removes an optional field (its default
 * applies). Every malformed assignment is reported at once; the field rules are the validator's.
 */
import { CtlError } from "./errors.js";

export type Assignment = { path: string[]; value: unknown };

const KEY = /^[A-Za-z][A-Za-z0-9]*(?:\.[A-Za-z][A-Za-z0-9]*)?$/;

export function parseAssignments(args: readonly string[]): Assignment[] {
  const problems: string[] = [];
  const seen = new Set<string>();
  const out: Assignment[] = [];
  if (args.length === 0) problems.push("name at least one field: key=value (e.g. minWarm=8)");
  for (const arg of args) {
    const eq = arg.indexOf("=");
    if (eq <= 0) {
      problems.push(`${JSON.stringify(arg)}: expected key=value (e.g. minWarm=8)`);
      continue;
    }
    const key = arg.slice(0, eq);
    const text = arg.slice(eq + 1);
    if (!KEY.test(key)) {
      problems.push(`${key}: not a field name (letters and digits, nested as asg.groupName)`);
      continue;
    }
    if (seen.has(key)) {
      problems.push(`${key}: given more than once`);
      continue;
    }
    seen.add(key);
    if (text === "") {
      problems.push(`${key}: no value (write ${key}=null to remove an optional field)`);
      continue;
    }
    out.push({ path: key.split("."), value: parseValue(text) });
  }
  if (problems.length > 0) throw new CtlError(`config set: ${problems.join("; ")}; nothing written`);
  return out;
}

function parseValue(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** A copy of `base` with the assignments applied (`null` deletes the field). */
export function applyAssignments(base: object, assignments: Assignment[]): Record<string, unknown> {
  const doc = structuredClone(base) as Record<string, unknown>;
  for (const { path, value } of assignments) {
    let obj = doc;
    for (const part of path.slice(0, -1)) {
      const next = obj[part];
      if (typeof next !== "object" || next === null || Array.isArray(next)) obj[part] = {};
      obj = obj[part] as Record<string, unknown>;
    }
    const leaf = path[path.length - 1]!;
    if (value === null) delete obj[leaf];
    else obj[leaf] = value;
  }
  return doc;
}
