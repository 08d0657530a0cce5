import { readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadRules, parseYaml } from "../../hack/checks/consistency/index.js";
import { runTool } from "./promtool.js";

const RULES_DIR = join(import.meta.dirname, "../../deploy/prometheus/rules");

describe("YAML reader (the yaml package, failsafe schema)", () => {
  it("reads the shapes rule and test files use", () => {
    const doc = parseYaml(
      [
        "# comment",
        "groups:",
        "- name: g # trailing comment",
        "  rules:",
        "    - alert: A",
        "      expr: |",
        "        sum(x)",
        "          > 1",
        "",
        "      for: 5m",
        "      labels: { severity: critical, team: 'a b' }",
        "      annotations:",
        '        summary: "say \\"hi\\""',
        "        runbook: >-",
        "          one",
        "          two",
        "",
        "          three",
        "    - record: r:x",
        "      expr: rate(x_total[5m])",
        "        / 2",
        "      extra: []",
        '      quoted: "a',
        '        b"',
        "      single: 'it''s'",
        "      empty:",
        "      seq:",
        "      - - nested",
      ].join("\n"),
    );
    expect(doc).toEqual({
      groups: [
        {
          name: "g",
          rules: [
            {
              alert: "A",
              expr: "sum(x)\n  > 1\n",
              for: "5m",
              labels: { severity: "critical", team: "a b" },
              annotations: { summary: 'say "hi"', runbook: "one two\nthree" },
            },
            {
              record: "r:x",
              expr: "rate(x_total[5m]) / 2",
              extra: [],
              quoted: "a b",
              single: "it's",
              empty: "", // the failsafe schema has no null: an empty value is an empty string
              seq: [["nested"]],
            },
          ],
        },
      ],
    });
  });

  it.each([
    ["anchors", "a: &x 1\nb: *x\n"],
    ["tabs in indentation", "a:\n\tb: 1\n"],
    ["duplicate keys", "a: 1\na: 2\n"],
    ["bad indentation", "a: 1\n   b: 2\n"],
    ["several documents", "a: 1\n---\nb: 2\n"],
    ["an unterminated string", 'a: "x\n'],
  ])("refuses %s loudly", (_what, text) => {
    expect(() => parseYaml(text)).toThrow();
  });

  it("finds as many rules in each rule file as promtool does", async () => {
    for (const f of readdirSync(RULES_DIR).filter((n) => n.endsWith(".yml"))) {
      const res = await runTool("promtool", ["check", "rules", join(RULES_DIR, f)]);
      expect(res.code, res.stdout + res.stderr).toBe(0);
      const promtoolCount = Number(/SUCCESS: (\d+) rules found/.exec(res.stdout)?.[1]);
      const ours = loadRules(RULES_DIR).rules.filter((r) => r.where.startsWith(`${f} `));
      expect(ours.length, f).toBe(promtoolCount);
      expect(ours.every((r) => r.expr.trim().length > 0)).toBe(true);
    }
  });
});
