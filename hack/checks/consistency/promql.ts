/**
 * Knows enough PromQL to say which series an expression reads: it tokenizes the expression,
 * skips strings, range/subquery brackets, function calls and label lists (`by (...)`,
 * `on (...)`, `group_left (...)`), and returns every vector selector with its label matchers.
 * It is not an evaluator; Prometheus itself checks the full grammar in the live test.
 */

export interface Matcher {
  label: string;
  op: "=" | "!=" | "=~" | "!~";
  value: string;
}

export interface Selector {
  /** The metric name, or undefined for `{__name__=~"..."}`-style selectors without an equality name. */
  metric: string | undefined;
  matchers: Matcher[];
}

type TokenKind = "ident" | "string" | "number" | "punct" | "var";
interface Token {
  kind: TokenKind;
  text: string;
  pos: number;
}

const AGGREGATIONS = new Set([
  "sum",
  "min",
  "max",
  "avg",
  "group",
  "stddev",
  "stdvar",
  "count",
  "count_values",
  "bottomk",
  "topk",
  "quantile",
]);

// prettier-ignore
const FUNCTIONS = new Set([
  "abs", "absent", "absent_over_time", "acos", "acosh", "asin", "asinh", "atan", "atanh", "avg_over_time",
  "ceil", "changes", "clamp", "clamp_max", "clamp_min", "cos", "cosh", "count_over_time", "day_of_month",
  "day_of_week", "day_of_year", "days_in_month", "deg", "delta", "deriv", "exp", "floor", "histogram_count",
  "histogram_fraction", "histogram_quantile", "histogram_sum", "holt_winters", "hour", "idelta", "increase",
  "irate", "label_join", "label_replace", "last_over_time", "ln", "log10", "log2", "max_over_time",
  "min_over_time", "minute", "month", "pi", "predict_linear", "present_over_time", "quantile_over_time",
  "rad", "rate", "resets", "round", "scalar", "sgn", "sin", "sinh", "sort", "sort_desc", "sqrt",
  "stddev_over_time", "stdvar_over_time", "sum_over_time", "tan", "tanh", "time", "timestamp", "vector",
  "year", "start", "end",
]);

/** Keywords followed by a parenthesised list of label names, not an expression. */
const LABEL_LIST_KEYWORDS = new Set(["by", "without", "on", "ignoring", "group_left", "group_right"]);
const KEYWORDS = new Set(["bool", "and", "or", "unless", "offset", "atan2", "inf", "nan"]);

const PUNCT = ["==", "!=", "=~", "!~", "<=", ">=", "=", "<", ">", "+", "-", "*", "/", "%", "^", "(", ")"];
const PUNCT_MORE = ["{", "}", ",", "@"];

const IDENT = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const DURATION = /^(?:\d+(?:ms|[smhdwy]))+(?![a-zA-Z0-9_:])/;
const NUMBER = /^(?:0[xX][0-9a-fA-F]+|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)/;
const GRAFANA_VAR = /^(?:\$\{[^}]*\}|\$[a-zA-Z_][a-zA-Z0-9_]*|\[\[[^\]]*\]\])/;

export class PromqlError extends Error {}

function readString(expr: string, start: number): number {
  const quote = expr[start];
  let i = start + 1;
  while (i < expr.length) {
    const c = expr[i];
    if (c === "\\" && quote !== "`") i += 2;
    else if (c === quote) return i + 1;
    else i += 1;
  }
  throw new PromqlError(`unterminated string starting at offset ${start}`);
}

function tokenize(expr: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < expr.length) {
    const c = expr[i] as string;
    const rest = expr.slice(i);
    if (/\s/.test(c)) {
      i += 1;
    } else if (c === "#") {
      const nl = expr.indexOf("\n", i);
      i = nl < 0 ? expr.length : nl + 1;
    } else if (c === '"' || c === "'" || c === "`") {
      const end = readString(expr, i);
      tokens.push({ kind: "string", text: expr.slice(i + 1, end - 1), pos: i });
      i = end;
    } else if (rest.startsWith("[[") || c === "$") {
      const m = GRAFANA_VAR.exec(rest);
      if (!m) throw new PromqlError(`stray "${c}" at offset ${i}`);
      tokens.push({ kind: "var", text: m[0], pos: i });
      i += m[0].length;
    } else if (c === "[") {
      // Range or subquery: a duration (maybe a Grafana variable), never a selector.
      const end = expr.indexOf("]", i);
      if (end < 0) throw new PromqlError(`unclosed "[" at offset ${i}`);
      i = end + 1;
    } else if (DURATION.test(rest)) {
      const m = DURATION.exec(rest) as RegExpExecArray;
      tokens.push({ kind: "number", text: m[0], pos: i });
      i += m[0].length;
    } else if (NUMBER.test(rest)) {
      const m = NUMBER.exec(rest) as RegExpExecArray;
      tokens.push({ kind: "number", text: m[0], pos: i });
      i += m[0].length;
    } else if (IDENT.test(rest)) {
      const m = IDENT.exec(rest) as RegExpExecArray;
      tokens.push({ kind: "ident", text: m[0], pos: i });
      i += m[0].length;
    } else {
      const p = [...PUNCT, ...PUNCT_MORE].find((op) => rest.startsWith(op));
      if (!p) throw new PromqlError(`unexpected "${c}" at offset ${i}`);
      tokens.push({ kind: "punct", text: p, pos: i });
      i += p.length;
    }
  }
  return tokens;
}

function isPunct(t: Token | undefined, text: string): boolean {
  return t !== undefined && t.kind === "punct" && t.text === text;
}

/** Index just past the `)` matching the `(` at `open`. */
function skipParens(tokens: Token[], open: number): number {
  let depth = 0;
  for (let i = open; i < tokens.length; i++) {
    const t = tokens[i];
    if (isPunct(t, "(")) depth += 1;
    else if (isPunct(t, ")")) {
      depth -= 1;
      if (depth === 0) return i + 1;
    }
  }
  throw new PromqlError(`unbalanced "(" at offset ${tokens[open]?.pos ?? 0}`);
}

/** Parses `{ label op "value", ... }` starting at the `{`; returns the matchers and the index after `}`. */
function readMatchers(tokens: Token[], open: number): { matchers: Matcher[]; next: number } {
  const matchers: Matcher[] = [];
  let i = open + 1;
  for (;;) {
    const t = tokens[i];
    if (t === undefined) throw new PromqlError(`unclosed "{" at offset ${tokens[open]?.pos ?? 0}`);
    if (isPunct(t, "}")) return { matchers, next: i + 1 };
    const op = tokens[i + 1];
    const value = tokens[i + 2];
    if (
      t.kind !== "ident" ||
      op?.kind !== "punct" ||
      !["=", "!=", "=~", "!~"].includes(op.text) ||
      value?.kind !== "string"
    ) {
      throw new PromqlError(`bad label matcher at offset ${t.pos}`);
    }
    matchers.push({ label: t.text, op: op.text as Matcher["op"], value: value.text });
    i += 3;
    if (isPunct(tokens[i], ",")) i += 1;
    else if (!isPunct(tokens[i], "}"))
      throw new PromqlError(`expected "," or "}" at offset ${tokens[i]?.pos}`);
  }
}

/** Every vector selector the expression reads, in order of appearance. Throws PromqlError on bad syntax. */
export function selectorsOf(expr: string): Selector[] {
  const tokens = tokenize(expr);
  let depth = 0;
  for (const t of tokens) {
    if (isPunct(t, "(")) depth += 1;
    else if (isPunct(t, ")") && --depth < 0) throw new PromqlError(`unbalanced ")" at offset ${t.pos}`);
  }
  if (depth !== 0) throw new PromqlError(`${depth} unclosed "("`);
  const out: Selector[] = [];
  let i = 0;
  while (i < tokens.length) {
    const t = tokens[i] as Token;
    const next = tokens[i + 1];
    if (t.kind === "ident") {
      const lower = t.text.toLowerCase();
      if (LABEL_LIST_KEYWORDS.has(lower) && isPunct(next, "(")) {
        i = skipParens(tokens, i + 1);
        continue;
      }
      const aggregationWithClause =
        AGGREGATIONS.has(lower) &&
        next?.kind === "ident" &&
        ["by", "without"].includes(next.text.toLowerCase());
      if (KEYWORDS.has(lower) || LABEL_LIST_KEYWORDS.has(lower) || aggregationWithClause) {
        i += 1;
        continue;
      }
      if (isPunct(next, "(")) {
        if (!FUNCTIONS.has(t.text) && !AGGREGATIONS.has(lower)) {
          throw new PromqlError(`unknown function "${t.text}" at offset ${t.pos}`);
        }
        i += 1;
        continue;
      }
      if (isPunct(next, "{")) {
        const { matchers, next: after } = readMatchers(tokens, i + 1);
        out.push({ metric: t.text, matchers });
        i = after;
      } else {
        out.push({ metric: t.text, matchers: [] });
        i += 1;
      }
      continue;
    }
    if (isPunct(t, "{")) {
      const { matchers, next: after } = readMatchers(tokens, i);
      const name = matchers.find((m) => m.label === "__name__" && m.op === "=");
      out.push({ metric: name?.value, matchers: matchers.filter((m) => m !== name) });
      i = after;
      continue;
    }
    if (isPunct(t, "}")) throw new PromqlError(`unbalanced "}" at offset ${t.pos}`);
    i += 1;
  }
  return out;
}

/** Metric names only (deduplicated); selectors without a literal name are left out. */
export function metricNamesOf(expr: string): string[] {
  return [...new Set(selectorsOf(expr).flatMap((s) => (s.metric === undefined ? [] : [s.metric])))];
}

/**
 * Grafana's template query functions (`label_values(metric, label)`, `query_result(expr)`) are
 * not PromQL; this returns the PromQL inside them, or the expression itself.
 */
export function promqlOfTemplateQuery(query: string): string | undefined {
  const q = query.trim();
  const lv = /^label_values\((.*)\)$/s.exec(q);
  if (lv) {
    const args = lv[1] as string;
    const comma = args.lastIndexOf(",");
    return comma < 0 ? undefined : args.slice(0, comma).trim();
  }
  const qr = /^query_result\((.*)\)$/s.exec(q);
  if (qr) return qr[1];
  if (/^(label_names|metrics)\(/.test(q)) return undefined;
  return q;
}
