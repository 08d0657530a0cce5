import { describe, expect, it } from "vitest";
import { metricNamesOf, promqlOfTemplateQuery, selectorsOf } from "../../hack/checks/consistency/index.js";

describe("PromQL selector extraction", () => {
  const cases: { description: string; expr: string; names: string[] }[] = [
    { description: "a bare metric", expr: "up", names: ["up"] },
    {
      description: "histogram_quantile over a rate of buckets, aggregation clause before the body",
      expr: 'histogram_quantile(0.99, sum by (le, pool) (rate(warmpool_claim_duration_seconds_bucket{pool="$pool"}[$__rate_interval])))',
      names: ["warmpool_claim_duration_seconds_bucket"],
    },
    {
      description: "aggregation clause after the body; label lists are not metrics",
      expr: "sum(rate(a_total[5m])) by (pool, le) / ignoring (outcome) group_left (x) sum without (le) (b_total)",
      names: ["a_total", "b_total"],
    },
    {
      description: "set operators, bool, offset, @ and numbers in every spelling",
      expr: "a > bool 1e3 and on (pool) b offset 5m unless c @ start() or d * 0x1F - .5 + Inf",
      names: ["a", "b", "c", "d"],
    },
    {
      description: "recording-rule names with colons and subqueries",
      expr: "max_over_time(pool:warmpool_x:rate5m[1h:1m]) > 3 * pool:warmpool_x:rate5m offset 1h30m",
      names: ["pool:warmpool_x:rate5m"],
    },
    {
      description: "strings are skipped, whatever they contain",
      expr: 'label_replace(x{a="b(c) d_total", e=~"f|g"}, "dst", "$1", "src", "(.*) y")',
      names: ["x"],
    },
    {
      description: "__name__ matchers",
      expr: '{__name__="warmpool_leader", pool="a"} + count({__name__=~"warmpool_.*"})',
      names: ["warmpool_leader"],
    },
    {
      description: "Grafana variables outside strings and a comment",
      expr: "topk($limit, rate(x_total[${__interval}])) # trailing words are a comment",
      names: ["x_total"],
    },
    { description: "functions only", expr: "time() - vector(1)", names: [] },
    {
      description: "newer functions the Prometheus grammar knows (no fixed list here)",
      expr: 'sort_by_label(double_exponential_smoothing(a[10m], 0.5, 0.5), "pool") + {"quoted.metric", pool="p"}',
      names: ["a", "quoted.metric"],
    },
  ];
  it.each(cases)("$description", ({ expr, names }) => {
    expect(metricNamesOf(expr)).toEqual(names);
  });

  it("keeps each selector's matchers", () => {
    expect(selectorsOf('warmpool_tasks{pool="$pool", state!~"warm|claimed",}')).toEqual([
      {
        metric: "warmpool_tasks",
        matchers: [
          { label: "pool", op: "=", value: "$pool" },
          { label: "state", op: "!~", value: "warm|claimed" },
        ],
      },
    ]);
  });

  it.each([
    ["unbalanced parentheses", "sum(rate(x[5m])"],
    ["an unclosed selector", 'x{a="b"'],
    ["a bad matcher", "x{a=b}"],
    ["an unknown function", "rates(x[5m])"],
    ["an unterminated string", 'x{a="b}'],
  ])("rejects %s", (_what, expr) => {
    expect(() => selectorsOf(expr)).toThrow();
  });

  it("reads the PromQL inside Grafana template queries", () => {
    expect(promqlOfTemplateQuery("label_values(warmpool_tasks, pool)")).toBe("warmpool_tasks");
    expect(promqlOfTemplateQuery('label_values(warmpool_tasks{state="warm"}, pool)')).toBe(
      'warmpool_tasks{state="warm"}',
    );
    expect(promqlOfTemplateQuery("query_result(topk(5, x))")).toBe("topk(5, x)");
    expect(promqlOfTemplateQuery("label_values(pool)")).toBeUndefined();
  });
});
