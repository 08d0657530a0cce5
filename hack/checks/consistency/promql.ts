/**
 * Which series a PromQL expression reads, by the Prometheus project's own grammar
 * (@prometheus-io/lezer-promql, the parser behind the Prometheus UI): every vector selector with
 * its label matchers. Grafana variables outside strings (`$__rate_interval`, `${x}`, `[[x]]`,
 * `$x`) are not PromQL; they are replaced by a duration inside `[...]` and a number elsewhere
 * before parsing. Any syntax error (an unknown function included) throws PromqlError.
 */
import { parser } from "@prometheus-io/lezer-promql";

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

export class PromqlError extends Error {}

type Tree = ReturnType<typeof parser.parse>;
type Node = ReturnType<Tree["topNode"]["getChildren"]>[number];

const GRAFANA_VAR = /^(?:\$\{[^}]*\}|\$[a-zA-Z_][a-zA-Z0-9_]*|\[\[[^\]]*\]\])/;
const OPS: Record<string, Matcher["op"]> = { EqlSingle: "=", Neq: "!=", EqlRegex: "=~", NeqRegex: "!~" };

/** Grafana variables outside strings → `5m` in a range/subquery bracket, `1` elsewhere. */
function withoutGrafanaVars(expr: string): string {
  let out = "";
  let quote: string | undefined;
  let bracket = 0;
  for (let i = 0; i < expr.length;) {
    const c = expr[i]!;
    if (quote) {
      out += c;
      if (c === "\\" && quote !== "`") {
        out += expr[i + 1] ?? "";
        i += 2;
        continue;
      }
      if (c === quote) quote = undefined;
      i += 1;
      continue;
    }
    const v = GRAFANA_VAR.exec(expr.slice(i));
    if (v && (c === "$" || expr.startsWith("[[", i))) {
      out += bracket > 0 ? "5m" : "1";
      i += v[0].length;
      continue;
    }
    if (c === '"' || c === "'" || c === "`") quote = c;
    else if (c === "[") bracket += 1;
    else if (c === "]") bracket -= 1;
    out += c;
    i += 1;
  }
  return out;
}

function unquote(lit: string): string {
  const q = lit[0];
  const inner = lit.slice(1, -1);
  if (q === "`") return inner;
  try {
    return JSON.parse(q === '"' ? lit : `"${inner.replace(/\\'/g, "'").replace(/"/g, '\\"')}"`) as string;
  } catch {
    return inner;
  }
}

/** Every vector selector the expression reads, in order of appearance. Throws PromqlError on bad syntax. */
export function selectorsOf(expr: string): Selector[] {
  const src = withoutGrafanaVars(expr);
  const tree = parser.parse(src);
  const text = (n: Node): string => src.slice(n.from, n.to);
  let error: number | undefined;
  tree.iterate({
    enter: (n) => {
      if (n.type.isError && error === undefined) error = n.from;
    },
  });
  if (error !== undefined) {
    throw new PromqlError(
      `syntax error at offset ${error} near ${JSON.stringify(src.slice(error, error + 20))}`,
    );
  }
  const out: Selector[] = [];
  tree.iterate({
    enter: (ref) => {
      if (ref.name !== "VectorSelector") return;
      const node = ref.node;
      let metric = node.getChild("Identifier") ? text(node.getChild("Identifier")!) : undefined;
      const matchers: Matcher[] = [];
      for (const m of node.getChild("LabelMatchers")?.getChildren("UnquotedLabelMatcher") ?? []) {
        matchers.push(matcher(text(m.getChild("LabelName")!), m, text));
      }
      for (const m of node.getChild("LabelMatchers")?.getChildren("QuotedLabelMatcher") ?? []) {
        matchers.push(
          matcher(unquote(text(m.getChild("QuotedLabelName")!.getChild("StringLiteral")!)), m, text),
        );
      }
      const quotedName = node.getChild("LabelMatchers")?.getChild("QuotedLabelName");
      if (quotedName) metric = unquote(text(quotedName.getChild("StringLiteral")!));
      const name = matchers.find((m) => m.label === "__name__" && m.op === "=");
      if (metric === undefined && name) metric = name.value;
      out.push({ metric, matchers: matchers.filter((m) => m !== name) });
    },
  });
  return out;
}

function matcher(label: string, m: Node, text: (n: Node) => string): Matcher {
  const op = m.getChild("MatchOp")?.firstChild?.name ?? "";
  const value = m.getChildren("StringLiteral").at(-1);
  if (!OPS[op] || !value) throw new PromqlError(`bad label matcher ${JSON.stringify(text(m))}`);
  return { label, op: OPS[op], value: unquote(text(value)) };
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
