/**
 * The skip rule of `npm test` (hack/check-everything.sh → hack/tests/summary.ts): a real vitest
 * run of a fixture with one skipped test, its JSON report fed to the built summary script. Not on
 * the allow-list, the skip fails the run (exit 1, the test named); listed with a reason, it passes
 * and is counted; an entry without a reason is refused. The committed list must parse, and name
 * files that exist.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseAllowList } from "../../hack/tests/summary.js";
import { packageRoot } from "../../pkg/util/index.js";

const root = packageRoot();
const script = join(root, "dist", "hack", "tests", "summary.js");
let dir: string;
let report: string;

beforeAll(() => {
  if (!existsSync(script)) throw new Error("dist/ is missing: run `npx tsc -p .` first");
  dir = mkdtempSync(join(tmpdir(), "wp-skips-"));
  report = join(dir, "report.json");
  const r = spawnSync(
    process.execPath,
    [
      join(root, "node_modules", "vitest", "vitest.mjs"),
      "run",
      "--config",
      "test/checks/fixtures/vitest.fixture.config.ts",
      "--reporter=json",
      `--outputFile.json=${report}`,
    ],
    { cwd: root, encoding: "utf8", timeout: 60_000 },
  );
  if (!existsSync(report)) throw new Error(`the fixture run wrote no report: ${r.stderr}`);
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function summary(allow: string): { status: number | null; out: string; err: string } {
  const list = join(dir, "allow");
  writeFileSync(list, allow);
  const r = spawnSync(process.execPath, [script, report, list], { cwd: root, encoding: "utf8" });
  return { status: r.status, out: r.stdout, err: r.stderr };
}

const SKIPPED = "test/checks/fixtures/skipping.fixture.ts | fixture is skipped";

describe("skipped tests in npm test", () => {
  it("a skip not on the allow-list fails the run and is named", () => {
    const r = summary("# nothing allowed\n");
    expect(r.status).toBe(1);
    expect(r.out).toContain("tests: 1 passed, 0 failed, 1 skipped (0 allowed, 1 not allowed)");
    expect(r.err).toContain(`skipped, not on`);
    expect(r.err).toContain(SKIPPED);
  });

  it("on the list with a reason, it is allowed and counted", () => {
    const r = summary(`${SKIPPED} | shows the rule\n`);
    expect(r.err).toBe("");
    expect(r.out).toContain("tests: 1 passed, 0 failed, 1 skipped (1 allowed, 0 not allowed)");
    expect(r.status).toBe(0);
    // A describe block's title covers the tests under it.
    expect(summary("test/checks/fixtures/skipping.fixture.ts | fixture | a block\n").status).toBe(0);
    // Another file, or a name that only starts the same, does not.
    expect(summary("test/checks/fixtures/other.fixture.ts | fixture is skipped | x\n").status).toBe(1);
    expect(summary("test/checks/fixtures/skipping.fixture.ts | fixture is | x\n").status).toBe(1);
  });

  it("an entry without a reason is refused", () => {
    const r = summary("test/checks/fixtures/skipping.fixture.ts | fixture is skipped\n");
    expect(r.status).toBe(1);
    expect(r.err).toMatch(/allow-list line 1: expected "file \| test name \| reason"/);
  });

  it("the committed allow-list parses, is short, and names files that exist", () => {
    const { entries, problems } = parseAllowList(
      readFileSync(join(root, "hack", "test-skips.allow"), "utf8"),
    );
    expect(problems).toEqual([]);
    expect(entries.length).toBeLessThanOrEqual(10);
    for (const e of entries) {
      expect(existsSync(join(root, e.file)), e.file).toBe(true);
      expect(readFileSync(join(root, e.file), "utf8"), e.file).toMatch(/\.skip(If)?\(/);
    }
  });
});
