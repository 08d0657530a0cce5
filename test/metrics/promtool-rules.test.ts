import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseYaml } from "../../hack/checks/consistency/index.js";
import { runTool } from "./promtool.js";

const PROM = join(import.meta.dirname, "../../deploy/prometheus");
const ruleFiles = readdirSync(join(PROM, "rules")).map((f) => join(PROM, "rules", f));
const testFiles = readdirSync(join(PROM, "tests")).map((f) => join(PROM, "tests", f));

describe("Prometheus rules (promtool)", () => {
  it("promtool check rules: every rule file is valid", async () => {
    const res = await runTool("promtool", ["check", "rules", ...ruleFiles]);
    expect(res.code, res.stdout + res.stderr).toBe(0);
    expect(res.stdout).toMatch(/SUCCESS: 15 rules found/);
  });

  it("promtool test rules: every alert fires and stays quiet where its unit tests say", async () => {
    const res = await runTool("promtool", ["test", "rules", ...testFiles]);
    expect(res.code, res.stdout + res.stderr).toBe(0);
    expect(res.stdout).toMatch(/SUCCESS/);
  });

  it("the unit tests notice a changed threshold (they are not vacuous)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "warmpool-rules-"));
    try {
      cpSync(PROM, dir, { recursive: true });
      // Only the latency test group, to keep it quick; JSON is YAML to promtool.
      const suite = parseYaml(readFileSync(join(PROM, "tests/warmpool-alerts.test.yml"), "utf8")) as {
        tests: { name: string }[];
      };
      suite.tests = suite.tests.filter((t) => t.name === "claim latency p99 over budget");
      expect(suite.tests).toHaveLength(1);
      const testFile = join(dir, "tests/latency-only.test.yml");
      // The YAML reader keeps every scalar a string; promtool wants expected sample values as numbers.
      writeFileSync(
        testFile,
        JSON.stringify(suite, (k, v: unknown) => (k === "value" ? Number(v) : v)),
      );
      const intact = await runTool("promtool", ["test", "rules", testFile]);
      expect(intact.code, intact.stdout + intact.stderr).toBe(0);

      const alerts = join(dir, "rules/warmpool-alerts.yml");
      const text = readFileSync(alerts, "utf8");
      const doctored = text.replace(
        "pool:warmpool_claim_duration_seconds:p99_5m > 3",
        "pool:warmpool_claim_duration_seconds:p99_5m > 5",
      );
      expect(doctored).not.toBe(text);
      writeFileSync(alerts, doctored);
      const res = await runTool("promtool", ["test", "rules", testFile]);
      expect(res.code).not.toBe(0);
      expect(res.stdout + res.stderr).toMatch(/WarmpoolClaimLatencyHigh/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("prometheus.yml example is a valid configuration", async () => {
    const res = await runTool("promtool", ["check", "config", join(PROM, "prometheus.yml")]);
    expect(res.code, res.stdout + res.stderr).toBe(0);
  });
});
