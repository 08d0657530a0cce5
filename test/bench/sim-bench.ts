/**
 * Simulator speed: one simulated day at 1 claim/s through the production planner, for a static
 * pool and for the adaptive policy, reporting wall and CPU seconds (the bar: under 10 s
 * for the day), reconcile passes and claims simulated per wall second. Called by
 * test/bench/run.ts (`npm run bench`) through `runSimBench`, or alone:
 *
 *   npx tsc -p . && node dist/test/bench/sim-bench.js
 */
import { performance } from "node:perf_hooks";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath, pathToFileURL } from "node:url";
import { BenchRecorder } from "./bench-stats.js";
import { COMPARED_ADAPTIVE, ORIGIN_DESIRED, defaultScenario, profile, runSim } from "../../pkg/sim/index.js";

export interface SimBenchFigure {
  name: string;
  claims: number;
  passes: number;
  wallS: number;
  cpuS: number;
  claimsPerWallS: number;
  hitRate: number;
}

export function benchSim(): SimBenchFigure[] {
  const day = 86_400_000;
  const cases = [
    {
      name: "constant 1/s, static 30/30/3",
      desired: { ...ORIGIN_DESIRED, minWarm: 30, maxWarm: 30 },
      policy: { kind: "static" as const },
      prof: "constant" as const,
    },
    {
      name: "diurnal mean 1/s, adaptive",
      desired: COMPARED_ADAPTIVE.desired,
      policy: COMPARED_ADAPTIVE.policy,
      prof: "diurnal" as const,
    },
  ];
  return cases.map((c) => {
    const s = defaultScenario({
      durationMs: day,
      demand: {
        kind: "poisson",
        profile: profile(c.prof, { ratePerS: 1 }),
        session: { medianMs: 180_000, sigma: 0.7 },
      },
      desired: c.desired,
      policy: c.policy,
    });
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const { result } = runSim(s);
    const wallS = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    return {
      name: c.name,
      claims: result.claims,
      passes: result.passes.event + result.passes.resync,
      wallS,
      cpuS: (cpu.user + cpu.system) / 1e6,
      claimsPerWallS: result.claims / wallS,
      hitRate: result.hitRate,
    };
  });
}

/**
 * The day is simulated in a process of its own, as `warmpool sim` runs: inside `npm run bench`
 * the benches before it leave a large heap (10,000-task emulators) and the planner's type feedback
 * from other shapes, which added 30% to its CPU seconds.
 */
async function benchSimInChild(): Promise<SimBenchFigure[]> {
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), "--json"], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  let out = "";
  child.stdout.on("data", (d: Buffer) => (out += d.toString()));
  const [code] = (await once(child, "exit")) as [number | null];
  if (code !== 0) throw new Error(`sim bench process exited with ${code}`);
  return JSON.parse(out) as SimBenchFigure[];
}

export async function runSimBench(rec: BenchRecorder = new BenchRecorder()): Promise<SimBenchFigure[]> {
  const figures = await benchSimInChild();
  for (const f of figures) {
    console.log(
      `sim: 1 day, ${f.name.padEnd(30)} ${f.claims} claims, ${f.passes} planner passes: ` +
        `${f.wallS.toFixed(2)} s wall, ${f.cpuS.toFixed(2)} s CPU (${Math.round(f.claimsPerWallS)} claims/s), ` +
        `hit rate ${(f.hitRate * 100).toFixed(2)}%`,
    );
  }
  rec.record("sim", figures);
  for (const f of figures) {
    // The bar is "a day in under 10 s"; held on CPU seconds, which other work on a shared machine
    // inflates far less than wall seconds (both are reported).
    rec.target(
      `sim.${f.name}.cpuS`,
      `a simulated day at 1 claim/s (${f.name}) ≤ 10 s CPU`,
      f.cpuS,
      "<=",
      10,
      "s",
    );
  }
  return figures;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  if (process.argv.includes("--json")) process.stdout.write(JSON.stringify(benchSim()));
  else await runSimBench();
}
