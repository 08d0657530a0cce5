import { describe, expect, it } from "vitest";
import { createMetrics, isRuntimeMetric, M } from "../../pkg/metrics/index.js";
import { POLICY_METRICS } from "../../pkg/policy/index.js";
import { exerciseEveryMetric } from "./exercise.js";
import { runTool } from "./promtool.js";

/** Metric families named by `# TYPE` lines, and the families that carry at least one sample. */
function families(exposition: string): { declared: Set<string>; sampled: Set<string> } {
  const declared = new Set<string>();
  const sampled = new Set<string>();
  for (const line of exposition.split("\n")) {
    const type = /^# TYPE (\S+) /.exec(line);
    if (type) declared.add(type[1] as string);
    else if (line !== "" && !line.startsWith("#")) {
      const series = (/^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line) as RegExpExecArray)[0];
      sampled.add(series.replace(/_(bucket|sum|count)$/, ""));
      sampled.add(series);
    }
  }
  return { declared, sampled };
}

describe("metric factory exposition", () => {
  it("exports every contract name once, and promtool check metrics is clean with every metric observed", async () => {
    const metrics = createMetrics();
    const touched = exerciseEveryMetric(metrics, "pool-a");
    expect(touched.sort()).toEqual(Object.values(M).sort());

    const exposition = await metrics.registry.metrics();
    const { declared, sampled } = families(exposition);
    for (const name of Object.values(M)) {
      expect(declared, `${name} declared`).toContain(name);
      expect(sampled, `${name} has samples`).toContain(name);
    }
    expect([...declared].filter((n) => isRuntimeMetric(n)).length).toBeGreaterThan(10);
    // Runtime metrics read warmpool_ + prom-client's own process_/nodejs_, the prefix never doubled.
    expect(declared).toContain("warmpool_process_cpu_seconds_total");
    expect(declared).toContain("warmpool_process_resident_memory_bytes");
    expect(declared).toContain("warmpool_nodejs_eventloop_lag_seconds");
    expect(declared).toContain("warmpool_nodejs_eventloop_lag_p99_seconds");
    expect([...declared].filter((n) => /^warmpool_process_(process|nodejs)_/.test(n))).toEqual([]);
    // Every warmpool_ family is a contract name or a runtime metric, nothing in between.
    const contract = new Set<string>(Object.values(M));
    expect([...declared].filter((n) => !contract.has(n) && !isRuntimeMetric(n))).toEqual([]);

    const lint = await runTool("promtool", ["check", "metrics"], exposition);
    expect(lint.stdout + lint.stderr).toBe("");
    expect(lint.code).toBe(0);
  });

  it("promtool check metrics does flag a non-conformant exposition (the linter is live)", async () => {
    const bad =
      "# HELP warmpool_bad_total Not a counter.\n# TYPE warmpool_bad_total gauge\nwarmpool_bad_total 1\n";
    const lint = await runTool("promtool", ["check", "metrics"], bad);
    expect(lint.code).not.toBe(0);
    expect(lint.stdout + lint.stderr).toMatch(/_total/);
  });

  it("exports the adaptive policy's metrics exactly as pkg/policy defines them", () => {
    const registry = createMetrics(undefined, { defaults: false }).registry;
    for (const def of POLICY_METRICS) {
      const m = registry.getSingleMetric(def.name) as unknown as
        { help: string; labelNames: string[]; constructor: { name: string } } | undefined;
      expect(m, def.name).toBeDefined();
      expect(m?.help).toBe(def.help);
      expect(m?.labelNames).toEqual([...def.labelNames]);
      expect(m?.constructor.name.toLowerCase()).toBe(def.type);
    }
  });

  it("each process has its own registry: two factories never collide", async () => {
    const a = createMetrics();
    const b = createMetrics(undefined, { defaults: false });
    a.claimsTotal.inc({ pool: "x", outcome: "hit" });
    expect(await b.registry.getSingleMetricAsString(M.claimsTotal)).not.toMatch(/pool="x"/);
    expect(await a.registry.getSingleMetricAsString(M.claimsTotal)).toMatch(/pool="x",outcome="hit"} 1/);
    expect(b.registry.getMetricsAsArray().some((m) => isRuntimeMetric(m.name))).toBe(false);
  });
});
