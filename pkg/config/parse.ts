/**
 * Parses the raw `config` key (a JSON string written by `warmpool ctl` or a plain `SET`) into a
 * validated desired state. Malformed JSON is one error that says where it broke (line, column,
 * offset), so on-call can find the stray comma in a hand-edited value.
 */
import { validateDesiredState, type ConfigError, type ValidationResult } from "./validate.js";

export function parseDesiredState(json: string): ValidationResult {
  let input: unknown;
  try {
    if (json.trim() === "") {
      return { ok: false, errors: [jsonError('is empty; expected a JSON object such as {"minWarm":5}')] };
    }
    input = JSON.parse(json);
  } catch (e) {
    return { ok: false, errors: [jsonError(describeSyntaxError(json, e))] };
  }
  return validateDesiredState(input);
}

function jsonError(text: string): ConfigError {
  return { field: "$", rule: "json", message: `$: malformed JSON: ${text}` };
}

/** `at line 2 column 5 (offset 17): Expected ',' or '}' after property value`. */
function describeSyntaxError(json: string, e: unknown): string {
  const raw = e instanceof Error ? e.message : String(e);
  const m = /at position (\d+)/.exec(raw);
  const offset = m ? Number(m[1]) : /end of JSON input/i.test(raw) ? json.length : undefined;
  const what = raw
    .replace(/\s*in JSON at position \d+.*$/, "")
    .replace(/\s*\(line \d+ column \d+\)/, "")
    .trim();
  if (offset === undefined) return what;
  const before = json.slice(0, offset);
  const line = before.split("\n").length;
  const column = offset - before.lastIndexOf("\n");
  return `at line ${line} column ${column} (offset ${offset}): ${what}`;
}
