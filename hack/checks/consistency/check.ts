/**
 * The dashboard / rule / metric consistency check. A metric nobody charts is dead weight; a
 * panel over a metric nobody exports is a lie. Given the registry the metric factory builds,
 * this reports:
 *   - dead panels and rules: a selector reads a series that no metric, recording rule or
 *     Prometheus built-in provides, filters on a label the series lacks, or on a value a
 *     bounded label never takes;
 *   - dead metrics: a factory metric that no dashboard panel or rule reads (process runtime
 *     metrics excepted), and recording rules nothing reads;
 *   - alerts without severity, summary or runbook, or without a firing and a quiet unit test;
 *   - dashboard panels that do not filter pool metrics by the `pool` variable with `=~` (the
 *     variable may hold several pools or All, which Grafana sends as a regex).
 */
import type { Registry } from "prom-client";
import { BOUNDED_LABELS, isRuntimeMetric } from "../../../pkg/metrics/index.js";
import { loadDashboards, type ExprUse } from "./dashboards.js";
import { exportedMetrics, seriesCatalog } from "./exported.js";
import { selectorsOf, type Selector } from "./promql.js";
import { loadAlertTests, loadRules, type Rule } from "./rules.js";

export interface CheckInput {
  registry: Registry;
  dashboardsDir: string;
  rulesDir: string;
  /** Directory of `promtool test rules` files; when absent, test coverage is not checked. */
  testsDir?: string;
}

export interface CheckReport {
  problems: string[];
  counts: { dashboards: number; expressions: number; metrics: number; alerts: number; records: number };
}

/** Series Prometheus itself writes; a rule or panel may read them without any exporter. */
const BUILTIN_SERIES: Record<string, readonly string[]> = {
  ALERTS: ["alertname", "alertstate", "severity", "pool"],
  ALERTS_FOR_STATE: ["alertname", "severity", "pool"],
  up: ["job", "instance"],
};

const SEVERITIES = ["critical", "warning", "info"];
const MIN_RUNBOOK_CHARS = 120;

/** The literal values a matcher may select, or undefined when it is a real regex or a variable. */
function literalValues(value: string, op: string): string[] | undefined {
  if (value.includes("$")) return undefined;
  if (op === "=") return [value];
  if (op === "=~" && /^[A-Za-z0-9_:\-|]+$/.test(value)) return value.split("|");
  return undefined;
}

export function checkConsistency(input: CheckInput): CheckReport {
  const problems: string[] = [];
  const dashboards = loadDashboards(input.dashboardsDir);
  const rules = loadRules(input.rulesDir);
  problems.push(...dashboards.problems, ...rules.problems);

  const metrics = exportedMetrics(input.registry);
  const catalog = seriesCatalog(metrics);
  const records = new Map(rules.rules.filter((r) => r.kind === "record").map((r) => [r.name, r]));
  const alerts = rules.rules.filter((r): r is Rule => r.kind === "alert");
  const alertNames = new Set(alerts.map((a) => a.name));
  for (const name of records.keys()) {
    if (catalog.has(name)) problems.push(`recording rule ${name} shadows a series the factory exports`);
  }

  const usedMetrics = new Set<string>();
  const usedRecords = new Set<string>();
  const uses: (ExprUse & { record?: string })[] = [
    ...dashboards.exprs,
    ...rules.rules.map((r) => ({
      where: r.where,
      expr: r.expr,
      panel: false,
      ...(r.kind === "record" ? { record: r.name } : {}),
    })),
  ];

  const checkSelector = (use: ExprUse & { record?: string }, s: Selector): void => {
    const at = `${use.where}: `;
    if (s.metric === undefined) {
      problems.push(`${at}selector without a literal metric name cannot be checked`);
      return;
    }
    const series = catalog.get(s.metric);
    const builtin = BUILTIN_SERIES[s.metric];
    let labels: Set<string> | undefined;
    if (series) {
      usedMetrics.add(series.metric.name);
      labels = series.labels;
    } else if (records.has(s.metric)) {
      if (s.metric !== use.record) usedRecords.add(s.metric);
    } else if (builtin) {
      labels = new Set(builtin);
      for (const m of s.matchers.filter((x) => x.label === "alertname")) {
        for (const v of literalValues(m.value, m.op) ?? []) {
          if (!alertNames.has(v)) problems.push(`${at}reads ALERTS of "${v}", which no rule defines`);
        }
      }
    } else {
      problems.push(
        `${at}dead ${use.panel ? "panel" : "query"}: reads ${s.metric}, which no factory metric, recording rule or Prometheus built-in provides`,
      );
      return;
    }
    const bounded = series ? BOUNDED_LABELS[series.metric.name] : undefined;
    for (const m of s.matchers) {
      if (labels && !labels.has(m.label)) {
        problems.push(`${at}${s.metric} has no label "${m.label}" (it has ${[...labels].sort().join(", ")})`);
        continue;
      }
      const allowed = bounded?.[m.label];
      for (const v of (allowed && literalValues(m.value, m.op)) || []) {
        if (!allowed?.includes(v)) {
          problems.push(`${at}${s.metric}{${m.label}} never takes "${v}" (it takes ${allowed?.join(", ")})`);
        }
      }
    }
    // A dashboard shows the pools the variable selects (one, several or All, sent as a regex):
    // every pool metric must be filtered by it, with =~ (an = would match nothing for "All").
    if (use.panel && series && series.metric.labels.includes("pool")) {
      const pool = s.matchers.find((m) => m.label === "pool");
      if (!pool || !pool.value.includes("$pool")) {
        problems.push(`${at}${s.metric} is not filtered by pool=~"$pool"`);
      } else if (pool.op !== "=~") {
        problems.push(
          `${at}${s.metric} filters pool${pool.op}"${pool.value}": use pool=~"$pool" (the variable may hold several pools or All)`,
        );
      }
    }
  };

  for (const use of uses) {
    let selectors: Selector[];
    try {
      selectors = selectorsOf(use.expr);
    } catch (e) {
      problems.push(`${use.where}: cannot parse PromQL (${(e as Error).message}): ${use.expr}`);
      continue;
    }
    if (selectors.length === 0) problems.push(`${use.where}: reads no series at all`);
    for (const s of selectors) checkSelector(use, s);
  }

  for (const m of metrics) {
    if (isRuntimeMetric(m.name) || usedMetrics.has(m.name)) continue;
    problems.push(`dead metric: ${m.name} is exported but no dashboard panel or rule reads it`);
  }
  for (const name of records.keys()) {
    if (!usedRecords.has(name))
      problems.push(`dead recording rule: ${name} is recorded but nothing reads it`);
  }

  for (const a of alerts) {
    if (!SEVERITIES.includes(a.labels.severity ?? "")) {
      problems.push(`${a.where}: label severity must be one of ${SEVERITIES.join(", ")}`);
    }
    if (!a.annotations.summary) problems.push(`${a.where}: annotation "summary" is missing`);
    if ((a.annotations.runbook ?? "").trim().length < MIN_RUNBOOK_CHARS) {
      problems.push(`${a.where}: annotation "runbook" must be a paragraph (>= ${MIN_RUNBOOK_CHARS} chars)`);
    }
  }
  if (input.testsDir !== undefined) {
    const tests = loadAlertTests(input.testsDir);
    problems.push(...tests.problems);
    for (const name of alertNames) {
      const c = tests.coverage.get(name) ?? { firing: 0, quiet: 0 };
      if (c.firing === 0) problems.push(`alert ${name}: no promtool test case expects it to fire`);
      if (c.quiet === 0) problems.push(`alert ${name}: no promtool test case expects it quiet`);
    }
    for (const name of tests.coverage.keys()) {
      if (!alertNames.has(name)) problems.push(`promtool tests name alert ${name}, which no rule defines`);
    }
  }

  return {
    problems,
    counts: {
      dashboards: dashboards.files.length,
      expressions: uses.length,
      metrics: metrics.length,
      alerts: alerts.length,
      records: records.size,
    },
  };
}
