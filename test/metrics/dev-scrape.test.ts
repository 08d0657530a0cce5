import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadDashboards, loadRules } from "../../hack/checks/consistency/index.js";
import { cliEntry } from "../../pkg/util/index.js";
import { uniquePool, waitFor } from "../harness/index.js";
import {
  excusedInShortRun,
  NOT_IN_A_DEV_RUN,
  startPrometheus,
  type PrivatePrometheus,
  type VectorSample,
} from "./prometheus.js";

/**
 * The built `warmpool dev` process (its own redis-server, the ECS emulator running real bridge
 * tasks, the reconciler, the gateway and its traffic generator) on free ports, scraped by a real
 * Prometheus under a short claim load. Every PromQL expression of every dashboard panel must
 * return data but for metrics no process sets yet; every alert must stay quiet for the working
 * pool but those that depend on how fast this busy machine refills; and once dev is stopped,
 * WarmpoolNoLeader goes pending and no process dev started is left.
 */
const ROOT = join(import.meta.dirname, "../..");
const RULES_DIR = join(ROOT, "deploy/prometheus/rules");
const DEV_TOKEN = "warmpool-dev-token";
const POOL = uniquePool("dev");

const LOAD_DEPENDENT = ["WarmpoolPoolExhausted", "WarmpoolClaimLatencyHigh", "WarmpoolWarmBelowTarget"];

/** What Grafana sends for the pool, with windows sized for a 1 s scrape interval. */
const render = (expr: string): string =>
  expr
    .replace(/\$\{?pool\}?/g, POOL)
    .replace(/\$\{?__rate_interval\}?/g, "15s")
    .replace(/\$\{?__range\}?/g, "5m")
    .replace(/\$\{?__interval\}?/g, "5s");
const hasFiniteValue = (samples: VectorSample[]): boolean =>
  samples.some((s) => Number.isFinite(Number(s.value[1])));

/** Every process below `root` now, from /proc (children, grandchildren, …). */
function descendants(root: number): number[] {
  const parentOf = new Map<number, number>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      parentOf.set(Number(entry), ppid);
    } catch {
      // the process ended while we read
    }
  }
  const found: number[] = [];
  const walk = (pid: number): void => {
    for (const [child, parent] of parentOf) {
      if (parent === pid) {
        found.push(child);
        walk(child);
      }
    }
  };
  walk(root);
  return found;
}
const alive = (pid: number): boolean => existsSync(`/proc/${pid}`);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe("warmpool dev scraped by a real Prometheus", () => {
  let dev: ChildProcess;
  let out = "";
  let exited: Promise<void>;
  let reconcilerUrl = "";
  let gatewayUrl = "";
  let prom: PrivatePrometheus | undefined;
  let load: NodeJS.Timeout | undefined;

  beforeAll(async () => {
    dev = spawn(
      process.execPath,
      [cliEntry(), "dev", "--pool", POOL, "--metrics-port", "0", "--gateway-port", "0", "--traffic", "30"],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    dev.stdout?.on("data", (d: Buffer) => (out += d.toString()));
    dev.stderr?.on("data", (d: Buffer) => (out += d.toString()));
    exited = new Promise((resolve) => dev.once("exit", () => resolve()));
    await waitFor(
      "warmpool dev to print its URLs",
      async () => {
        if (dev.exitCode !== null) throw new Error(`warmpool dev exited: ${out}`);
        reconcilerUrl = /reconciler\s+(http:\/\/\S+)\/metrics/.exec(out)?.[1] ?? "";
        gatewayUrl = /gateway\s+(http:\/\/\S+)\s/.exec(out)?.[1] ?? "";
        return reconcilerUrl !== "" && gatewayUrl !== "";
      },
      90_000,
      100,
    );
    prom = await startPrometheus({
      targets: [new URL(reconcilerUrl).host, new URL(gatewayUrl).host],
      ruleFiles: readdirSync(RULES_DIR).map((f) => join(RULES_DIR, f)),
    });
    // On top of dev's own generator (a claim every 2 s, held 3–10 s): one more claim a second,
    // released at once, so claim counters and latency buckets move from the first scrapes.
    let n = 0;
    const headers = { authorization: `Bearer ${DEV_TOKEN}`, "content-type": "application/json" };
    load = setInterval(() => {
      void fetch(`${gatewayUrl}/v1/claims`, {
        method: "POST",
        headers,
        body: JSON.stringify({ userId: `scrape-${++n}`, waitMs: 5_000, leaseSeconds: 30 }),
      })
        .then(async (res) => {
          const body = (await res.json()) as { claimId?: string };
          if (body.claimId)
            await fetch(`${gatewayUrl}/v1/claims/${body.claimId}`, { method: "DELETE", headers });
        })
        .catch(() => undefined);
    }, 1_000);
  }, 120_000);

  afterAll(async () => {
    clearInterval(load);
    await prom?.stop();
    // After a failure: stop dev as Ctrl-C would, and kill what it leaves only if it hangs.
    if (dev && dev.exitCode === null && dev.signalCode === null) {
      const children = descendants(dev.pid as number);
      dev.kill("SIGTERM");
      const hung = await Promise.race([exited.then(() => false), sleep(20_000).then(() => true)]);
      if (hung) dev.kill("SIGKILL");
      for (const pid of children.filter(alive)) process.kill(pid, "SIGKILL");
    }
  }, 40_000);

  it("every dashboard panel expression returns data, but for metrics this run cannot move", async () => {
    const panels = loadDashboards(join(ROOT, "dashboards")).exprs.filter((e) => e.panel);
    const excused = (expr: string) => excusedInShortRun(expr, NOT_IN_A_DEV_RUN);
    const checked = panels.filter((p) => !excused(render(p.expr)));
    expect(checked.length).toBeGreaterThan(panels.length / 2);
    // The task start-time queries are among them: every claim's replacement starts in dev.
    expect(checked.some((p) => /task_start_duration/.test(p.expr))).toBe(true);
    await waitFor(
      "every live panel to return data",
      async () => {
        const missing: string[] = [];
        for (const use of checked) {
          if (!hasFiniteValue(await prom!.query(render(use.expr)))) missing.push(use.where);
        }
        if (missing.length > 0) throw new Error(`no data for ${POOL}: ${missing.join("; ")}`);
        return true;
      },
      40_000,
      500,
    );
  });

  it("every rule expression evaluates; the alerts a working pool never trips stay quiet", async () => {
    const rules = loadRules(RULES_DIR).rules;
    const records = rules.filter((r) => r.kind !== "alert");
    await waitFor(
      "every recording rule to have evaluated the live data",
      async () => {
        for (const r of records)
          if ((await prom!.query(`${r.name}{pool="${POOL}"}`)).length === 0) return false;
        return true;
      },
      30_000,
      250,
    );
    const alerts = rules.filter((r) => r.kind === "alert");
    expect(alerts.length).toBeGreaterThan(LOAD_DEPENDENT.length);
    for (const a of alerts) {
      const pools = (await prom!.query(a.expr)).map((s) => s.metric.pool);
      if (!LOAD_DEPENDENT.includes(a.name)) expect(pools, a.name).not.toContain(POOL);
    }
  });

  it("stopping dev makes WarmpoolNoLeader pending and leaves no process behind", async () => {
    const children = descendants(dev.pid as number);
    expect(children.length).toBeGreaterThan(1); // redis-server and the bridge tasks at least
    clearInterval(load);
    dev.kill("SIGTERM");
    await exited;
    expect(dev.exitCode).toBe(0);
    await waitFor("dev's processes to be gone", async () => children.every((p) => !alive(p)), 15_000, 200);
    await waitFor(
      "WarmpoolNoLeader pending for the pool",
      async () =>
        (await prom!.alerts()).some(
          (a) => a.labels.alertname === "WarmpoolNoLeader" && a.labels.pool === POOL && a.state === "pending",
        ),
      30_000,
      250,
    );
  });
});
