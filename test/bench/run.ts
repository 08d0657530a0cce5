/**
 * `npm run bench`: runs every benchmark under test/bench, one after the other so they do not
 * disturb each other's figures. A `*-bench.js` module that exports `run…Bench` functions has
 * them called with a BenchRecorder; one that exports none is a script with its own main and is
 * run as a child process.
 *
 * Every figure goes to one JSON file (docs/bench.json; `BENCH_OUT=<file>` elsewhere), from which
 * hack/bench-tables.ts generates the README's "Measured" table and docs/reconciler.md's figures.
 * The exit code is non-zero when any stated target is missed or any bench fails.
 *
 *   npm run bench                        every bench, figures → docs/bench.json
 *   BENCH_ONLY=claims npm run bench      only claims-bench (figures → $TMPDIR/bench-partial.json)
 *   BENCH_TIGHTEN=100 npm run bench      every target 100× out of reach: must exit 1
 *
 * The process runs with --expose-gc (it re-executes itself with it when started without), so the
 * reconciler bench's heap figure is measured after a full collection.
 */
import { spawn } from "node:child_process";
import { readdirSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { format } from "prettier";
import { BenchRecorder, tightenFactor } from "./bench-stats.js";

const dir = dirname(fileURLToPath(import.meta.url));

if (typeof globalThis.gc !== "function") {
  const child = spawn(process.execPath, ["--expose-gc", ...process.execArgv, ...process.argv.slice(1)], {
    stdio: "inherit",
  });
  child.once("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
} else {
  await main();
}

async function main(): Promise<void> {
  const only = (process.env.BENCH_ONLY ?? "").split(",").filter(Boolean);
  const out = resolve(
    process.env.BENCH_OUT ??
      (only.length > 0 ? join(tmpdir(), "bench-partial.json") : join(dir, "../../../docs/bench.json")),
  );
  const rec = new BenchRecorder();
  const startedAt = new Date().toISOString();
  const loadBefore = loadavg();
  const failures: string[] = [];
  for (const file of readdirSync(dir)
    .filter((f) => f.endsWith("-bench.js"))
    .filter((f) => only.length === 0 || only.some((o) => f.startsWith(o)))
    .sort()) {
    const path = join(dir, file);
    const mod = (await import(pathToFileURL(path).href)) as Record<string, unknown>;
    const runs = Object.entries(mod).filter(
      ([name, fn]) => typeof fn === "function" && /^run.*Bench$/.test(name),
    );
    if (runs.length === 0) {
      console.log(`\n== ${file}`);
      const code = await new Promise<number | null>((done) => {
        spawn(process.execPath, [path], { stdio: "inherit" }).once("exit", (c) => done(c));
      });
      if (code !== 0) failures.push(`${file} exited with ${code}`);
      continue;
    }
    for (const [name, fn] of runs) {
      console.log(`\n== ${file}: ${name}`);
      try {
        await (fn as (r: BenchRecorder) => Promise<unknown>)(rec);
      } catch (err) {
        failures.push(`${name} failed: ${(err as Error).stack ?? String(err)}`);
        console.error(`${name} failed:`, err);
      }
    }
  }
  const missed = rec.missed;
  const report = {
    generatedBy: "npm run bench",
    startedAt,
    finishedAt: new Date().toISOString(),
    machine: {
      cpus: cpus().length,
      node: process.version,
      loadAverage1m: { before: round1(loadBefore[0]!), after: round1(loadavg()[0]!) },
    },
    tighten: tightenFactor(),
    allTargetsMet: missed.length === 0 && failures.length === 0,
    targets: rec.targets,
    failures,
    figures: rec.figures,
  };
  // Laid out as prettier would, so a committed run passes the format check as written.
  writeFileSync(out, await format(JSON.stringify(report), { parser: "json", printWidth: 110 }));
  console.log(`\nfigures: ${out}`);
  console.log(
    `targets: ${rec.targets.length - missed.length} met, ${missed.length} missed` +
      (failures.length ? `; ${failures.length} bench(es) failed` : ""),
  );
  for (const m of missed) console.log(`  MISS  ${m.rule}: ${m.value} ${m.unit} (limit ${m.op} ${m.limit})`);
  process.exit(report.allTargetsMet ? 0 : 1);
}

function round1(x: number): number {
  return Math.round(x * 10) / 10;
}
