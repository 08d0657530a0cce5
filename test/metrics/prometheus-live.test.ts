import type { Server } from "node:http";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadDashboards, loadRules } from "../../hack/checks/consistency/index.js";
import { createMetrics } from "../../pkg/metrics/index.js";
import { freePort, waitFor } from "../harness/index.js";
import { startPrometheus, type PrivatePrometheus, type VectorSample } from "./prometheus.js";
import { POOLS, runScenario, serveMetrics, type Scenario } from "./scenario.js";

/**
 * A real Prometheus scrapes a metric factory's registry fed by the three-pool scenario and
 * evaluates the repository's rule files. Every dashboard panel query must return data, and
 * every alert must fire for the broken pool (and the pool whose leader vanished) and stay
 * quiet for the healthy one: as an expression, and as an alert Prometheus holds pending.
 */
const ROOT = join(import.meta.dirname, "../..");
const RULES_DIR = join(ROOT, "deploy/prometheus/rules");
const dashboards = loadDashboards(join(ROOT, "dashboards"));
const { rules } = loadRules(RULES_DIR);
const alertRules = rules.filter((r) => r.kind === "alert");

/**
 * What Grafana would send for the pool variable (one pool; several as the regex `(a|b)`; All as
 * the variable's allValue), with windows sized for a 1 s scrape interval.
 */
function render(expr: string, pool: string): string {
  return expr
    .replace(/\$\{?pool\}?/g, pool)
    .replace(/\$\{?__rate_interval\}?/g, "15s")
    .replace(/\$\{?__range\}?/g, "5m")
    .replace(/\$\{?__interval\}?/g, "5s");
}

const hasFiniteValue = (samples: VectorSample[]): boolean =>
  samples.some((s) => Number.isFinite(Number(s.value[1])));

/** Alerts expected per pool: all of them for `broken`, the no-leader one also for `gone`. */
const expectedPools = (alert: string): string[] =>
  alert === "WarmpoolNoLeader" ? [POOLS.broken, POOLS.gone] : [POOLS.broken];

describe("dashboards and rules against a real Prometheus", () => {
  let server: Server;
  let prom: PrivatePrometheus;
  let scenario: Scenario;

  beforeAll(async () => {
    const metrics = createMetrics();
    scenario = runScenario(metrics);
    const port = await freePort();
    server = await serveMetrics(metrics, port);
    prom = await startPrometheus({
      targets: [`127.0.0.1:${port}`],
      ruleFiles: readdirSync(RULES_DIR).map((f) => join(RULES_DIR, f)),
    });
    // The `gone` pool's reconciler exits once Prometheus has seen it lead.
    await waitFor(
      "the gone pool's leader to be scraped",
      async () => (await prom.query(`warmpool_leader{pool="${POOLS.gone}"}`)).length > 0,
      30_000,
      200,
    );
    scenario.stopGoneLeader();
  });

  afterAll(async () => {
    scenario?.stop();
    await prom?.stop();
    await new Promise((resolve) => server?.close(resolve));
  });

  it("loads exactly the rules the consistency check reads from the rule files", async () => {
    const loaded = await prom.rules();
    expect(loaded.alerting.sort()).toEqual(alertRules.map((r) => r.name).sort());
    expect(loaded.recording.sort()).toEqual(
      rules
        .filter((r) => r.kind === "record")
        .map((r) => r.name)
        .sort(),
    );
  });

  it("every dashboard query returns data, for the healthy and the broken pool", async () => {
    const panels = dashboards.exprs.filter((e) => e.panel);
    expect(panels.length).toBeGreaterThan(30);
    await waitFor(
      "every panel query to return a finite value",
      async () => {
        const missing: string[] = [];
        for (const pool of [POOLS.healthy, POOLS.broken]) {
          for (const use of panels) {
            const expr = render(use.expr, pool);
            if (!hasFiniteValue(await prom.query(expr))) missing.push(`${use.where} [${pool}]: ${expr}`);
          }
        }
        if (missing.length > 0)
          throw new Error(`${missing.length} without data, e.g. ${missing.slice(0, 3).join(" | ")}`);
        return true;
      },
      40_000,
      500,
    );
  });

  it("with All and with two pools selected, every panel returns data and the key panels one series per pool", async () => {
    const allValues = dashboards.poolVariables.map((v) => v.allValue);
    expect(allValues).toEqual(dashboards.files.map(() => ".+"));
    const panels = dashboards.exprs.filter((e) => e.panel);
    const selections = [".+", `(${POOLS.healthy}|${POOLS.broken})`];
    await waitFor(
      "every panel query to return data for All and for two pools",
      async () => {
        const missing: string[] = [];
        for (const pool of selections) {
          for (const use of panels) {
            const expr = render(use.expr, pool);
            if (!hasFiniteValue(await prom.query(expr))) missing.push(`${use.where} [${pool}]: ${expr}`);
          }
        }
        if (missing.length > 0)
          throw new Error(`${missing.length} without data, e.g. ${missing.slice(0, 3).join(" | ")}`);
        return true;
      },
      40_000,
      500,
    );
    // The per-pool breakdowns: allocation latency, warm/claimed, utilization, refill.
    const key = panels.filter((e) =>
      /panel "(Tasks by state|Desired vs actual warm|Utilization|Claim latency|Refill and start time)"/.test(
        e.where,
      ),
    );
    expect(key.length).toBeGreaterThanOrEqual(12);
    for (const pool of selections) {
      for (const use of key) {
        const samples = await prom.query(render(use.expr, pool));
        const seen = [
          ...new Set(samples.filter((x) => Number.isFinite(Number(x.value[1]))).map((x) => x.metric.pool)),
        ];
        expect(seen.sort(), `${use.where} [${pool}]`).toEqual([POOLS.broken, POOLS.healthy]);
      }
    }
  });

  it("the pool variable lists the pools, and the key panels show the scenario's numbers", async () => {
    const pools = (await prom.query("group by (pool) (warmpool_tasks)")).map((s) => s.metric.pool).sort();
    expect(pools).toEqual([POOLS.broken, POOLS.healthy]);

    const byState = await prom.query(`max by (state) (warmpool_tasks{pool="${POOLS.healthy}"})`);
    expect(Object.fromEntries(byState.map((s) => [s.metric.state, Number(s.value[1])]))).toEqual({
      starting: 1,
      warm: 5,
      claimed: 3,
      draining: 1,
      unaccounted: 0,
    });
    // Claims of 0.8 s fall in the (0.5, 1] bucket, claims of 14 s in (10, 15].
    const p99 = async (pool: string): Promise<number> => {
      const q = `histogram_quantile(0.99, sum by (le) (rate(warmpool_claim_duration_seconds_bucket{pool="${pool}"}[15s])))`;
      return Number((await prom.query(q))[0]?.value[1]);
    };
    const healthy = await p99(POOLS.healthy);
    expect(healthy).toBeGreaterThan(0.5);
    expect(healthy).toBeLessThanOrEqual(1);
    const broken = await p99(POOLS.broken);
    expect(broken).toBeGreaterThan(10);
    expect(broken).toBeLessThanOrEqual(15);
  });

  it("every alert expression selects the broken pools and never the healthy one", async () => {
    await waitFor(
      "alert expressions to select exactly the broken pools",
      async () => {
        const wrong: string[] = [];
        for (const rule of alertRules) {
          const pools = [...new Set((await prom.query(rule.expr)).map((s) => s.metric.pool ?? "?"))].sort();
          const want = expectedPools(rule.name);
          if (JSON.stringify(pools) !== JSON.stringify(want)) wrong.push(`${rule.name}: ${pools.join(",")}`);
        }
        if (wrong.length > 0) throw new Error(`selected the wrong pools: ${wrong.join("; ")}`);
        return true;
      },
      40_000,
      500,
    );
  });

  it("Prometheus holds every alert pending or firing for the broken pools, none for the healthy one", async () => {
    await waitFor(
      "every alert to be active for the broken pools",
      async () => {
        const active = (await prom.alerts()).filter((a) => a.state === "pending" || a.state === "firing");
        const missing = alertRules.flatMap((r) =>
          expectedPools(r.name)
            .filter((pool) => !active.some((a) => a.labels.alertname === r.name && a.labels.pool === pool))
            .map((pool) => `${r.name}/${pool}`),
        );
        if (missing.length > 0) throw new Error(`not active: ${missing.join(", ")}`);
        return true;
      },
      40_000,
      500,
    );
    const active = await prom.alerts();
    expect(active.filter((a) => a.labels.pool === POOLS.healthy)).toEqual([]);
    expect(active.filter((a) => a.labels.pool === POOLS.gone).map((a) => a.labels.alertname)).toEqual([
      "WarmpoolNoLeader",
    ]);
  });
});
