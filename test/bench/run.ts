/**
 * `npm run bench`: runs every benchmark under test/bench (each `*-bench.js` module's exported
 * `run…Bench` functions), one after the other, so they do not disturb each other's figures.
 */
import { readdirSync } from "node:fs";
import { dirname } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const dir = dirname(fileURLToPath(import.meta.url));
let failed = 0;
for (const file of readdirSync(dir)
  .filter((f) => f.endsWith("-bench.js"))
  .sort()) {
  const mod = (await import(pathToFileURL(`${dir}/${file}`).href)) as Record<string, unknown>;
  for (const [name, fn] of Object.entries(mod)) {
    if (typeof fn !== "function" || !/^run.*Bench$/.test(name)) continue;
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
