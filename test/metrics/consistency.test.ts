import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { checkConsistency } from "../../hack/checks/consistency/index.js";
import { createMetrics, M } from "../../pkg/metrics/index.js";

const ROOT = join(import.meta.dirname, "../..");
type Json = Record<string, unknown> & {
  panels?: Json[];
  targets?: { refId?: string; expr: string }[];
  templating?: Json;
};

/** A scratch copy of the repository's dashboards, rules and rule tests, for doctoring. */
function scratch() {
  const dir = mkdtempSync(join(tmpdir(), "warmpool-consistency-"));
  const paths = {
    dir,
    dashboards: join(dir, "dashboards"),
    rules: join(dir, "rules"),
    tests: join(dir, "tests"),
  };
  cpSync(join(ROOT, "dashboards"), paths.dashboards, { recursive: true });
  cpSync(join(ROOT, "deploy/prometheus/rules"), paths.rules, { recursive: true });
  cpSync(join(ROOT, "deploy/prometheus/tests"), paths.tests, { recursive: true });
  const dashboardFile = join(paths.dashboards, "pool-health.json");
  return {
    ...paths,
    editDashboard(edit: (d: Json) => void): void {
      const d = JSON.parse(readFileSync(dashboardFile, "utf8")) as Json;
      edit(d);
      writeFileSync(dashboardFile, JSON.stringify(d));
    },
    run(opts: { tests?: string } = {}) {
      return checkConsistency({
        registry: createMetrics().registry,
        dashboardsDir: paths.dashboards,
        rulesDir: paths.rules,
        testsDir: opts.tests ?? paths.tests,
      }).problems;
    },
  };
}

let dirs: string[] = [];
afterEach(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  dirs = [];
});
function fresh() {
  const s = scratch();
  dirs.push(s.dir);
  return s;
}
const panelOver = (expr: string, id = 999): Json => ({
  id,
  type: "timeseries",
  title: "Doctored",
  gridPos: { h: 8, w: 12, x: 0, y: 99 },
  datasource: { type: "prometheus", uid: "${datasource}" },
  targets: [{ refId: "A", expr }],
});

describe("metrics consistency check", () => {
  it("passes on the repository's dashboards and rules, which read every contract metric", () => {
    const report = checkConsistency({
      registry: createMetrics().registry,
      dashboardsDir: join(ROOT, "dashboards"),
      rulesDir: join(ROOT, "deploy/prometheus/rules"),
      testsDir: join(ROOT, "deploy/prometheus/tests"),
    });
    expect(report.problems).toEqual([]);
    expect(report.counts.dashboards).toBeGreaterThanOrEqual(2);
    expect(report.counts.alerts).toBeGreaterThanOrEqual(7);
    expect(report.counts.metrics).toBeGreaterThanOrEqual(Object.keys(M).length);
  });

  it("catches a dead panel: a panel over a series nobody exports", () => {
    const s = fresh();
    s.editDashboard((d) =>
      d.panels?.push(panelOver('sum(rate(warmpool_claims_rejected_total{pool="$pool"}[5m]))')),
    );
    expect(s.run()).toEqual([
      expect.stringMatching(
        /pool-health.json › panel "Doctored".*dead panel: reads warmpool_claims_rejected_total/,
      ),
    ]);
  });

  it("catches a dead metric: one the factory exports that no panel or rule reads", () => {
    const s = fresh();
    s.editDashboard((d) => {
      // Drop every query of it (a panel may chart it beside other metrics), then emptied panels.
      for (const p of d.panels ?? [])
        if (p.targets) p.targets = p.targets.filter((t) => !JSON.stringify(t).includes(M.asgInstances));
      d.panels = d.panels?.filter((p) => !p.targets || p.targets.length > 0);
    });
    expect(s.run()).toEqual([
      `dead metric: ${M.asgInstances} is exported but no dashboard panel or rule reads it`,
    ]);
  });

  it.each([
    [
      "a histogram read without its _bucket suffix",
      'histogram_quantile(0.9, rate(warmpool_claim_duration_seconds{pool="$pool"}[5m]))',
      /dead panel: reads warmpool_claim_duration_seconds,/,
    ],
    [
      "a gauge read with a histogram suffix",
      'warmpool_tasks_count{pool="$pool"}',
      /dead panel: reads warmpool_tasks_count/,
    ],
    [
      "a label value no process emits",
      'warmpool_tasks{pool="$pool", state="idle"}',
      /warmpool_tasks\{state\} never takes "idle"/,
    ],
    [
      "a value inside a regex alternation",
      'warmpool_claims_total{pool="$pool", outcome=~"hit|hits"}',
      /never takes "hits"/,
    ],
    [
      "a label the metric lacks",
      'warmpool_claims_waiting{pool="$pool", outcome="hit"}',
      /warmpool_claims_waiting has no label "outcome"/,
    ],
    [
      "a pool metric not filtered by the pool variable",
      "max(warmpool_leader)",
      /warmpool_leader is not filtered by pool=~"\$pool"/,
    ],
    [
      "a pool matcher that matches nothing once several pools or All are selected",
      'max by (pool) (warmpool_leader{pool="$pool"})',
      /warmpool_leader filters pool="\$pool": use pool=~"\$pool"/,
    ],
    ["alerts of an alert that does not exist", 'ALERTS{alertname="WarmpoolNoSuchThing"}', /no rule defines/],
    ["unparseable PromQL", 'sum(warmpool_leader{pool="$pool"}', /cannot parse PromQL/],
  ])("catches %s", (_what, expr, message) => {
    const s = fresh();
    s.editDashboard((d) => d.panels?.push(panelOver(expr)));
    const problems = s.run();
    expect(problems.length).toBeGreaterThan(0);
    expect(problems.join("\n")).toMatch(message);
  });

  it("catches a pool variable without All or multi-select", () => {
    const s = fresh();
    s.editDashboard((d) => {
      const pool = (d.templating as { list: Json[] }).list.find((v) => v.name === "pool")!;
      pool.includeAll = false;
    });
    expect(s.run()).toEqual([
      'pool-health.json: variable "pool" must offer "All" and several pools at once (includeAll and multi true)',
    ]);
  });

  it("catches dashboards that would not import as-is", () => {
    const s = fresh();
    s.editDashboard((d) => {
      d.uid = "";
      d.id = 7;
      (d.templating as { list: Json[] }).list = [];
      d.panels?.push({ ...panelOver('warmpool_leader{pool="$pool"}', 1), datasource: "Prometheus" });
    });
    const text = s.run().join("\n");
    for (const m of [
      /uid must be/,
      /id must be null/,
      /variable "datasource"/,
      /variable "pool"/,
      /reuses panel id 1/,
      /must use the datasource/,
    ]) {
      expect(text).toMatch(m);
    }
  });

  it("catches a recording rule nothing reads and an alert without runbook, severity or tests", () => {
    const s = fresh();
    writeFileSync(
      join(s.rules, "extra.yml"),
      [
        "groups:",
        "  - name: extra",
        "    rules:",
        "      - record: pool:warmpool_leader:max",
        "        expr: max by (pool) (warmpool_leader)",
        "      - alert: WarmpoolUntested",
        "        expr: warmpool_leader == 0",
        "        annotations:",
        "          summary: x",
      ].join("\n"),
    );
    const text = s.run().join("\n");
    expect(text).toMatch(/dead recording rule: pool:warmpool_leader:max/);
    expect(text).toMatch(/alert WarmpoolUntested: label severity/);
    expect(text).toMatch(/alert WarmpoolUntested: annotation "runbook"/);
    expect(text).toMatch(/alert WarmpoolUntested: no promtool test case expects it to fire/);
    expect(text).toMatch(/alert WarmpoolUntested: no promtool test case expects it quiet/);
  });

  it("requires a firing and a quiet promtool case for every alert", () => {
    const s = fresh();
    const empty = join(s.dir, "no-tests");
    cpSync(s.tests, empty, { recursive: true, filter: (src) => !src.endsWith(".yml") });
    const problems = s.run({ tests: empty });
    const alerts = (readFileSync(join(s.rules, "warmpool-alerts.yml"), "utf8").match(/- alert: /g) ?? [])
      .length;
    expect(problems.filter((p) => /no promtool test case expects it to fire/.test(p))).toHaveLength(alerts);
    expect(problems.filter((p) => /no promtool test case expects it quiet/.test(p))).toHaveLength(alerts);
  });
});
