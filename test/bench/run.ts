/**
 * `npm run bench`: runs every benchmark under test/bench, one after the other so they do not
 * disturb each other's figures. A `*-bench.js` module that exports `run…Bench` functions has
 * them called; one that exports none is a script with its own main (claims-bench) and is run as
 * a child process, printing its own report.
 */
import { spawn } from "node:child_process";
import { readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const dir = dirname(fileURLToPath(import.meta.url));
let failed = 0;
for (const file of readdirSync(dir)
  .filter((f) => f.endsWith("-bench.js"))
  .sort()) {
  const path = join(dir, file);
  const mod = (await import(pathToFileURL(path).href)) as Record<string, unknown>;
  const runs = Object.entries(mod).filter(
    ([name, fn]) => typeof fn === "function" && /^run.*Bench$/.test(name),
  );
  if (runs.length === 0) {
    console.log(`\n== ${file}`);
    const code = await new Promise<number | null>((resolve) => {
      spawn(process.execPath, [path], { stdio: "inherit" }).once("exit", (c) => resolve(c));
    });
    if (code !== 0) {
      failed++;
      console.error(`${file} exited with ${code}`);
    }
    continue;
  }
  for (const [name, fn] of runs) {
    console.log(`\n== ${file}: ${name}`);
    try {
      await (fn as () => Promise<unknown>)();
    } catch (err) {
      failed++;
      console.error(`${name} failed:`, err);
    }
  }
}
process.exit(failed ? 1 : 0);
