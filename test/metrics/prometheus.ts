import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { metricNamesOf } from "../../hack/checks/consistency/index.js";
import { M } from "../../pkg/metrics/index.js";
import { freePort, waitFor } from "../harness/index.js";

/** One sample of an instant vector as the HTTP API returns it. */
export interface VectorSample {
  metric: Record<string, string>;
  value: [number, string];
}

export interface ActiveAlert {
  labels: Record<string, string>;
  state: "pending" | "firing" | "inactive";
}

/**
 * A throwaway Prometheus server (Debian's `prometheus` binary from PATH) on a free loopback
 * port with its own temporary storage, scraping the given targets every second and evaluating
 * the given rule files every second. stop() kills it and removes its storage.
 */
export interface PrivatePrometheus {
  readonly url: string;
  /** Instant query; throws on a PromQL or HTTP error with Prometheus's own message. */
  query(expr: string): Promise<VectorSample[]>;
  alerts(): Promise<ActiveAlert[]>;
  /** Rule names Prometheus loaded, by kind. */
  rules(): Promise<{ alerting: string[]; recording: string[] }>;
  stop(): Promise<void>;
}

export async function startPrometheus(opts: {
  targets: string[];
  ruleFiles: string[];
}): Promise<PrivatePrometheus> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "warmpool-prometheus-"));
  const config = [
    "global:",
    "  scrape_interval: 1s",
    "  scrape_timeout: 1s",
    "  evaluation_interval: 1s",
    "rule_files:",
    ...opts.ruleFiles.map((f) => `  - ${JSON.stringify(f)}`),
    "scrape_configs:",
    "  - job_name: warmpool",
    "    static_configs:",
    `      - targets: ${JSON.stringify(opts.targets)}`,
  ].join("\n");
  writeFileSync(join(dir, "prometheus.yml"), config);

  let log = "";
  const child: ChildProcess = spawn(
    "prometheus",
    [
      `--config.file=${join(dir, "prometheus.yml")}`,
      `--storage.tsdb.path=${join(dir, "data")}`,
      `--web.listen-address=127.0.0.1:${port}`,
      "--log.level=warn",
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  child.stdout?.on("data", (d: Buffer) => (log += d.toString()));
  child.stderr?.on("data", (d: Buffer) => (log += d.toString()));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const url = `http://127.0.0.1:${port}`;

  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
  };

  const api = async <T>(path: string): Promise<T> => {
    const res = await fetch(`${url}${path}`);
    const body = (await res.json()) as { status: string; data: T; error?: string };
    if (body.status !== "success") throw new Error(`prometheus ${path}: ${body.error ?? res.status}`);
    return body.data;
  };

  try {
    await waitFor(
      "prometheus to be ready",
      async () => {
        if (child.exitCode !== null) throw new Error(`prometheus exited: ${log}`);
        return (await fetch(`${url}/-/ready`)).ok;
      },
      30_000,
      100,
    );
  } catch (e) {
    await stop();
    throw new Error(`starting prometheus: ${log}`, { cause: e });
  }

  return {
    url,
    async query(expr) {
      const data = await api<{ resultType: string; result: VectorSample[] }>(
        `/api/v1/query?query=${encodeURIComponent(expr)}`,
      );
      if (data.resultType === "scalar") {
        const [t, v] = data.result as unknown as [number, string];
        return [{ metric: {}, value: [t, v] }];
      }
      return data.result;
    },
    async alerts() {
      return (await api<{ alerts: ActiveAlert[] }>("/api/v1/alerts")).alerts;
    },
    async rules() {
      const data = await api<{ groups: { rules: { type: string; name: string }[] }[] }>("/api/v1/rules");
      const all = data.groups.flatMap((g) => g.rules);
      return {
        alerting: all.filter((r) => r.type === "alerting").map((r) => r.name),
        recording: all.filter((r) => r.type === "recording").map((r) => r.name),
      };
    },
    stop,
  };
}

/**
 * Metrics a short live run cannot move: set only by the Auto Scaling pass, the adaptive policy,
 * the many-pools mode or a failure this run does not provoke (docs/observability.md). Panels reading only these may show
 * no data in a live test.
 */
export const NOT_IN_A_SHORT_RUN: readonly string[] = [
  M.taskStartDuration,
  M.refillDuration,
  M.asgInstances,
  M.asgDesiredCapacity,
  M.asgPreparedCapacity,
  M.runTaskFailuresTotal,
  M.leaseExpiriesTotal,
  M.configRejectionsTotal,
  M.policyArrivalRate,
  M.policyStartP90,
  M.policyExpectedDemand,
  M.policyRawTarget,
  M.policyTarget,
  // The shared account budget exists only when one process serves many pools (--all-pools…).
  M.awsBudget,
  M.awsBudgetSpent,
];

/** True when a PromQL expression reads one of NOT_IN_A_SHORT_RUN (or of `list`). */
export function excusedInShortRun(expr: string, list: readonly string[] = NOT_IN_A_SHORT_RUN): boolean {
  return metricNamesOf(expr).some((n) => list.some((x) => n.startsWith(x)));
}

/**
 * `warmpool dev` under steady claims moves what a bare reconciler run does not: every claim's
 * replacement starts and registers (a start observed). A refill, from below the target back to
 * it, need not complete while claims keep coming, so that one stays excused.
 */
export const NOT_IN_A_DEV_RUN: readonly string[] = NOT_IN_A_SHORT_RUN.filter(
  (m) => m !== M.taskStartDuration,
);
