import { readdirSync } from "node:fs";
import { join } from "node:path";
import { Registry } from "prom-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadDashboards, loadRules } from "../../hack/checks/consistency/index.js";
import { runGateway } from "../../pkg/gateway/index.js";
import { createMetrics, isRuntimeMetric, M } from "../../pkg/metrics/index.js";
import type { ReconcilerProcess } from "../../pkg/reconciler/index.js";
import { waitFor } from "../harness/index.js";
import { setDesired, startWorld, type World } from "../reconciler/env.js";
import { excusedInShortRun, startPrometheus, type PrivatePrometheus } from "./prometheus.js";
import { runTool } from "./promtool.js";

/**
 * The real reconciler (against the ECS emulator) and the real gateway, under a short claim
 * load: `promtool check metrics` on their live /metrics scrapes, then a real Prometheus
 * scraping both runs the dashboards' queries and the alert rules over what they export, and
 * sees the no-leader alert go pending once the reconciler stops.
 */
const ROOT = join(import.meta.dirname, "../..");
const RULES_DIR = join(ROOT, "deploy/prometheus/rules");
const TOKEN = "metrics-test-token";

const sampledNames = (exposition: string): Set<string> =>
  new Set(
    exposition
      .split("\n")
      .filter((l) => l !== "" && !l.startsWith("#"))
      .map((l) => (/^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(l)?.[0] ?? "").replace(/_(bucket|sum|count)$/, "")),
  );
const hostPort = (url: string): string => new URL(url).host;

describe("live scrapes of the reconciler and the gateway", () => {
  let world: World;
  let reconciler: ReconcilerProcess;
  let gateway: Awaited<ReturnType<typeof runGateway>>;
  let prom: PrivatePrometheus;
  let load: NodeJS.Timeout | undefined;

  beforeAll(async () => {
    world = await startWorld();
    await setDesired(world, {
      minWarm: 2,
      maxWarm: 4,
      replenishThreshold: 1,
      maxTasks: 10,
      leaseSeconds: 60,
    });
    reconciler = await world.startReconciler({}, createMetrics(new Registry()));
    gateway = await runGateway({
      pool: world.pool,
      redisUrl: world.redisServer.url,
      host: "127.0.0.1",
      port: 0,
      tokens: TOKEN,
      defaultLeaseSeconds: 60,
      defaultWaitMs: 2_000,
      maxWaitMs: 5_000,
      readyTimeoutMs: 500,
      retryAfterSeconds: 1,
    });
    prom = await startPrometheus({
      targets: [hostPort(reconciler.ops.url), hostPort(gateway.url)],
      ruleFiles: readdirSync(RULES_DIR).map((f) => join(RULES_DIR, f)),
    });
    await waitFor("two warm tasks", async () => ((await world.states()).warm ?? 0) >= 2, 30_000, 100);
    // A short claim load: one claim every two seconds while the test runs. The stand-in bridges never
    // answer, so claims end by the ready timeout; the claim metrics move all the same.
    let n = 0;
    const claim = (): Promise<unknown> =>
      fetch(`${gateway.url}/v1/claims`, {
        method: "POST",
        headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
        body: JSON.stringify({ userId: `user-${++n}` }),
      }).catch(() => undefined);
    await claim();
    load = setInterval(() => void claim(), 2_000);
  });

  afterAll(async () => {
    clearInterval(load);
    await prom?.stop();
    await gateway?.close();
    await world?.close();
  });

  it.each([
    ["reconciler", () => `${reconciler.ops.url}/metrics`, [M.tasks, M.leader, M.reconcileTotal]],
    ["gateway", () => `${gateway.url}/metrics`, [M.claimsTotal, M.claimDuration]],
  ] as const)("%s: promtool check metrics is clean", async (_name, url, expected) => {
    const res = await fetch(url());
    expect(res.status).toBe(200);
    const exposition = await res.text();
    const lint = await runTool("promtool", ["check", "metrics"], exposition);
    expect(lint.stdout + lint.stderr).toBe("");
    expect(lint.code).toBe(0);
    // Only contract names, and the ones this process owns carry samples.
    const contract = new Set<string>(Object.values(M));
    const foreign = [...exposition.matchAll(/^# TYPE (warmpool_\S+) /gm)]
      .map((m) => m[1] as string)
      .filter((n) => !isRuntimeMetric(n) && !contract.has(n));
    expect(foreign).toEqual([]);
    const sampled = sampledNames(exposition);
    for (const name of expected) expect(sampled, name).toContain(name);
  });

  it("every dashboard panel has data from the live processes, but for metrics this run cannot move", async () => {
    const panels = loadDashboards(join(ROOT, "dashboards")).exprs.filter((e) => e.panel);
    const excused = excusedInShortRun;
    await waitFor(
      "the live panels to return data",
      async () => {
        const missing: string[] = [];
        for (const use of panels) {
          const expr = use.expr
            .replace(/\$\{?pool\}?/g, world.pool)
            .replace(/\$\{?__rate_interval\}?/g, "15s")
            .replace(/\$\{?__range\}?/g, "5m");
          if (excused(expr)) continue;
          if ((await prom.query(expr)).length === 0) missing.push(use.where);
        }
        if (missing.length > 0) throw new Error(`no data: ${missing.join("; ")}`);
        return true;
      },
      40_000,
      500,
    );
  });

  it("no alert selects the live pool while it is healthy; stopping the reconciler makes WarmpoolNoLeader pending", async () => {
    const alerts = loadRules(RULES_DIR).rules.filter((r) => r.kind === "alert");
    // Exhaustion, latency and below-target depend on how fast the emulator refills under the
    // claim load on a busy machine; every other alert must be quiet for a working pool.
    const loadDependent = ["WarmpoolPoolExhausted", "WarmpoolClaimLatencyHigh", "WarmpoolWarmBelowTarget"];
    const mustBeQuiet = alerts.filter((a) => !loadDependent.includes(a.name));
    expect(mustBeQuiet.length).toBe(alerts.length - loadDependent.length);
    await waitFor(
      "rules to have evaluated the live data",
      async () => (await prom.query("pool:warmpool_claim_duration_seconds:p99_5m")).length > 0,
      30_000,
      250,
    );
    for (const a of mustBeQuiet) {
      const pools = (await prom.query(a.expr)).map((s) => s.metric.pool);
      expect(pools, a.name).not.toContain(world.pool);
    }

    await reconciler.stop();
    await waitFor(
      "WarmpoolNoLeader pending for the pool",
      async () =>
        (await prom.alerts()).some(
          (a) =>
            a.labels.alertname === "WarmpoolNoLeader" &&
            a.labels.pool === world.pool &&
            a.state === "pending",
        ),
      30_000,
      250,
    );
  });
});
