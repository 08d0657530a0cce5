/**
 * The closing line of `npm test`, counted from vitest's own JSON report, and the skip rule: a
 * skipped (or todo) test fails the run unless hack/test-skips.allow names it with a reason.
 *
 *   node dist/hack/tests/summary.js <vitest-report.json> [allow-list]
 *
 * Prints `tests: N passed, N failed, N skipped (N allowed, N not allowed)` and every skip not on
 * the list; exits 1 when a skip is not allowed, when no test ran, or when the list is malformed.
 */
import { readFileSync } from "node:fs";
import { relative } from "node:path";
import { pathToFileURL } from "node:url";

export interface AllowEntry {
  file: string;
  /** A test's full name, or a describe block's title (every test under it). */
  name: string;
  reason: string;
  line: number;
}

interface Report {
  numTotalTests: number;
  numPassedTests: number;
  numFailedTests: number;
  numPendingTests?: number;
  numTodoTests?: number;
  testResults: {
    name: string;
    assertionResults: { fullName: string; status: string; ancestorTitles?: string[]; title?: string }[];
  }[];
}

export interface Skip {
  file: string;
  fullName: string;
  /** The enclosing describe blocks, outermost first, as each would be named: "a", "a b", … */
  blocks: string[];
  status: string;
}

export interface Summary {
  passed: number;
  failed: number;
  skipped: Skip[];
  allowed: Skip[];
  notAllowed: Skip[];
  problems: string[];
  line: string;
}

/** Parses the allow-list; a line without a file, a name and a reason is a problem, not ignored. */
export function parseAllowList(text: string): { entries: AllowEntry[]; problems: string[] } {
  const entries: AllowEntry[] = [];
  const problems: string[] = [];
  text.split("\n").forEach((raw, i) => {
    const l = raw.trim();
    if (l === "" || l.startsWith("#")) return;
    const parts = l.split("|").map((p) => p.trim());
    if (parts.length !== 3 || parts.some((p) => p === ""))
      problems.push(`allow-list line ${i + 1}: expected "file | test name | reason", got "${l}"`);
    else entries.push({ file: parts[0]!, name: parts[1]!, reason: parts[2]!, line: i + 1 });
  });
  return { entries, problems };
}

const SKIPPED = new Set(["skipped", "pending", "todo", "disabled"]);

export function summarize(report: Report, allowText: string, root = process.cwd()): Summary {
  const { entries, problems } = parseAllowList(allowText);
  const skipped: Skip[] = [];
  for (const f of report.testResults)
    for (const a of f.assertionResults)
      if (SKIPPED.has(a.status))
        skipped.push({
          file: relative(root, f.name).split("\\").join("/"),
          fullName: a.fullName,
          blocks: (a.ancestorTitles ?? []).map((_, i, all) => all.slice(0, i + 1).join(" ")),
          status: a.status,
        });
  const covers = (e: AllowEntry, s: Skip): boolean =>
    e.file === s.file && (s.fullName === e.name || s.blocks.includes(e.name));
  const allowed = skipped.filter((s) => entries.some((e) => covers(e, s)));
  const notAllowed = skipped.filter((s) => !allowed.includes(s));
  if (report.numTotalTests === 0) problems.push("no test ran");
  const line =
    `tests: ${report.numPassedTests} passed, ${report.numFailedTests} failed, ${skipped.length} skipped` +
    ` (${allowed.length} allowed, ${notAllowed.length} not allowed)`;
  return {
    passed: report.numPassedTests,
    failed: report.numFailedTests,
    skipped,
    allowed,
    notAllowed,
    problems,
    line,
  };
}

function main(argv: string[]): number {
  const [reportPath, allowPath = "hack/test-skips.allow"] = argv;
  if (!reportPath) {
    console.error("usage: summary <vitest-report.json> [allow-list]");
    return 2;
  }
  const report = JSON.parse(readFileSync(reportPath, "utf8")) as Report;
  const s = summarize(report, readFileSync(allowPath, "utf8"));
  console.log(`\n${s.line}`);
  for (const k of s.notAllowed)
    console.error(
      `skipped, not on ${allowPath}: ${k.file} | ${k.fullName} (add it there with a reason, or unskip it)`,
    );
  for (const p of s.problems) console.error(p);
  return s.notAllowed.length > 0 || s.problems.length > 0 ? 1 : 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = main(process.argv.slice(2));
}
