/**
 * CLI of the dashboard / rule / metric consistency check (see consistency/check.ts).
 *   node dist/hack/checks/metrics-consistency.js [--dashboards DIR] [--rules DIR] [--tests DIR]
 * Paths default to the repository layout, relative to the working directory. Exit 1 on any problem.
 */
import { parseArgs } from "node:util";
import { createMetrics } from "../../pkg/metrics/index.js";
import { checkConsistency } from "./consistency/index.js";

const { values } = parseArgs({
  options: {
    dashboards: { type: "string", default: "dashboards" },
    rules: { type: "string", default: "deploy/prometheus/rules" },
    tests: { type: "string", default: "deploy/prometheus/tests" },
  },
});

const report = checkConsistency({
  registry: createMetrics().registry,
  dashboardsDir: values.dashboards,
  rulesDir: values.rules,
  testsDir: values.tests,
});
const c = report.counts;
const summary = `${c.dashboards} dashboards, ${c.alerts} alerts, ${c.records} recording rules, ${c.expressions} expressions, ${c.metrics} metrics`;
if (report.problems.length > 0) {
  console.error(`metrics consistency: ${report.problems.length} problem(s) (${summary})`);
  for (const p of report.problems) console.error(`  - ${p}`);
  process.exit(1);
}
console.log(`metrics consistency: ok (${summary})`);
process.exit(0);
