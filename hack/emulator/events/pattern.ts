/**
 * The part of EventBridge's event pattern language a rule on ECS events needs: a pattern is an
 * object whose leaves are arrays of allowed values (any match), nested objects match nested
 * fields, and `{ "prefix": "…" }` / `{ "exists": bool }` / `{ "anything-but": [...] }` matchers.
 */
export type Matcher =
  string | number | boolean | null | { prefix: string } | { exists: boolean } | { "anything-but": unknown[] };
export interface EventPattern {
  [field: string]: Matcher[] | EventPattern;
}

/** Checks an untrusted pattern, naming the field and the rule. */
export function parseEventPattern(input: unknown, path = "eventPattern"): EventPattern {
  if (typeof input === "string") {
    try {
      input = JSON.parse(input);
    } catch {
      throw new Error(`${path} must be a JSON object`);
    }
  }
  if (typeof input !== "object" || input === null || Array.isArray(input))
    throw new Error(`${path} must be a JSON object`);
  const out: EventPattern = {};
  for (const [k, v] of Object.entries(input)) {
    const p = `${path}.${k}`;
    if (Array.isArray(v)) {
      if (!v.length) throw new Error(`${p} must list at least one value`);
      for (const m of v)
        if (typeof m === "object" && m !== null) {
          const keys = Object.keys(m);
          if (keys.length !== 1 || !["prefix", "exists", "anything-but"].includes(keys[0] as string))
            throw new Error(`${p}: a matcher object must be {prefix}, {exists} or {anything-but}`);
        }
      out[k] = v as Matcher[];
    } else out[k] = parseEventPattern(v, p);
  }
  return out;
}

function one(m: Matcher, v: unknown, present: boolean): boolean {
  if (m === null || typeof m !== "object") return present && v === m;
  if ("prefix" in m) return typeof v === "string" && v.startsWith(m.prefix);
  if ("exists" in m) return m.exists === present;
  return present && !m["anything-but"].includes(v);
}

export function matchesPattern(pattern: EventPattern, event: unknown): boolean {
  const obj = (typeof event === "object" && event !== null ? event : {}) as Record<string, unknown>;
  for (const [k, want] of Object.entries(pattern)) {
    const present = k in obj && obj[k] !== undefined;
    const v = obj[k];
    if (Array.isArray(want)) {
      const values = Array.isArray(v) ? v : [v];
      if (!want.some((m) => values.some((x) => one(m, x, present)))) return false;
    } else if (!matchesPattern(want, v)) return false;
  }
  return true;
}
