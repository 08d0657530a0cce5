/**
 * Reads Prometheus rule files (alerting and recording rules) and `promtool test rules` files:
 * the rules with their expressions, labels and annotations, and for each alert how many test
 * cases expect it to fire and how many expect it quiet.
 */
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { parseYaml, type YamlValue } from "./yaml.js";

export interface Rule {
  kind: "alert" | "record";
  name: string;
  expr: string;
  where: string;
  for?: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

export interface AlertTestCoverage {
  firing: number;
  quiet: number;
}

type YamlMap = { [key: string]: YamlValue };
const isMap = (v: YamlValue | undefined): v is YamlMap =>
  typeof v === "object" && v !== null && !Array.isArray(v);
const seq = (v: YamlValue | undefined): YamlValue[] => (Array.isArray(v) ? v : []);
const str = (v: YamlValue | undefined): string | undefined => (typeof v === "string" ? v : undefined);
const strings = (v: YamlValue | undefined): Record<string, string> =>
  isMap(v) ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, str(x) ?? ""])) : {};

function yamlFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => /\.ya?ml$/.test(f))
    .sort();
}

function readYaml(dir: string, f: string, problems: string[]): YamlValue | undefined {
  try {
    return parseYaml(readFileSync(join(dir, f), "utf8"));
  } catch (e) {
    problems.push(`${f}: ${(e as Error).message}`);
    return undefined;
  }
}

export function loadRules(dir: string): { files: string[]; rules: Rule[]; problems: string[] } {
  const rules: Rule[] = [];
  const problems: string[] = [];
  const files = yamlFiles(dir);
  if (files.length === 0) problems.push(`${dir}: no rule files (*.yml)`);
  for (const f of files) {
    const doc = readYaml(dir, f, problems);
    if (doc === undefined) continue;
    if (!isMap(doc) || !Array.isArray(doc.groups)) {
      problems.push(`${f}: a rule file is a mapping with "groups"`);
      continue;
    }
    for (const g of seq(doc.groups)) {
      const group = isMap(g) ? (str(g.name) ?? "?") : "?";
      seq(isMap(g) ? g.rules : undefined).forEach((r, i) => {
        if (!isMap(r)) return problems.push(`${f} › group "${group}": rule ${i + 1} is not a mapping`);
        const alert = str(r.alert);
        const record = str(r.record);
        const name = alert ?? record;
        const expr = str(r.expr);
        if (name === undefined || expr === undefined) {
          return problems.push(
            `${f} › group "${group}": rule ${i + 1} needs "alert" or "record", and "expr"`,
          );
        }
        rules.push({
          kind: alert !== undefined ? "alert" : "record",
          name,
          expr,
          where: `${f} › ${alert !== undefined ? "alert" : "record"} ${name}`,
          ...(str(r.for) !== undefined ? { for: str(r.for) } : {}),
          labels: strings(r.labels),
          annotations: strings(r.annotations),
        });
      });
    }
  }
  return { files, rules, problems };
}

/** Alert name → how many `alert_rule_test` cases expect it to fire and expect it quiet. */
export function loadAlertTests(dir: string): {
  files: string[];
  coverage: Map<string, AlertTestCoverage>;
  problems: string[];
} {
  const coverage = new Map<string, AlertTestCoverage>();
  const problems: string[] = [];
  const files = yamlFiles(dir);
  for (const f of files) {
    const doc = readYaml(dir, f, problems);
    if (doc === undefined) continue;
    if (!isMap(doc)) {
      problems.push(`${f}: a promtool test file is a mapping with "tests"`);
      continue;
    }
    for (const t of seq(doc.tests)) {
      for (const a of seq(isMap(t) ? t.alert_rule_test : undefined)) {
        if (!isMap(a)) continue;
        const name = str(a.alertname);
        if (name === undefined) continue;
        const c = coverage.get(name) ?? { firing: 0, quiet: 0 };
        if (seq(a.exp_alerts).length > 0) c.firing += 1;
        else c.quiet += 1;
        coverage.set(name, c);
      }
    }
  }
  return { files, coverage, problems };
}
