/**
 * The README's "Measured" figures, its targets list, docs/reconciler.md's benchmark table and the
 * README's sizing table are generated, never typed:
 *
 * - from docs/bench.json (written by `npm run bench`): the figures and every stated target with
 *   this run's PASS/MISS, into the blocks between `<!-- bench:<name>:begin -->` and
 *   `<!-- bench:<name>:end -->` markers of README.md and docs/reconciler.md;
 * - from docs/figures/comparison.md (written by `warmpool sim --figures docs/figures`): the
 *   README's static-vs-adaptive sizing table.
 *
 * Without arguments it checks, and fails naming each block whose committed text differs from
 * what the figures generate (so a figure typed into the README, or a bench.json committed without
 * its tables, fails `npm test`); `--write` rewrites the blocks.
 *
 *   node dist/hack/checks/bench-tables.js [--write] [--bench <file>]
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { mdTable } from "../../pkg/sim/index.js";
import { packageRoot } from "../../pkg/util/index.js";

interface Lat {
  samples: number;
  p50Ms: number;
  p90Ms: number | null;
  p99Ms: number | null;
  maxMs: number;
  perSecond: number;
}
interface Target {
  id: string;
  rule: string;
  value: number;
  op: string;
  limit: number;
  statedLimit: number;
  unit: string;
  ok: boolean;
}
interface PassCalls {
  listTasks: number;
  describeTasks: number;
  writes: number;
  other: number;
}
interface Median {
  median: number;
  samples: number[];
}
export interface BenchJson {
  startedAt: string;
  finishedAt: string;
  machine: { cpus: number; node: string; loadAverage1m: { before: number; after: number } };
  tighten: number;
  allTargetsMet: boolean;
  targets: Target[];
  failures: string[];
  figures: {
    reconciler?: {
      tasks: number;
      steadyPasses: PassCalls[];
      expectedPerKind: number;
      passCpuMs: Median;
      passWallMs: Median;
      plannerCpuMs: Median;
      heapUsedMb: number | null;
      rssMb: number;
      configToFirstRunTaskMs: Median;
    };
    claims?: {
      ping: Lat;
      luaClaim: Lat;
      libraryAssign: Record<string, Lat>;
      libraryClaim: Record<string, Lat>;
      gatewayPair: {
        rounds: number;
        library: Lat;
        gateway: Lat & {
          statuses: Record<string, number>;
          failed: number;
          gatewayCpuUsPerClaim: number;
          gatewayProcess: {
            eventLoopDelayMs: { p50: number; p99: number; max: number };
            eventLoopUtilization: number;
            gc: { count: number; totalMs: number; maxMs: number };
          };
        };
      };
      realBridge: Lat;
    };
    sim?: { name: string; claims: number; passes: number; wallS: number; cpuS: number }[];
  };
}

const n0 = (x: number): string => Math.round(x).toLocaleString("en-US");
const ms = (x: number): string =>
  x >= 100 ? n0(x) : x >= 10 ? x.toFixed(1) : x >= 1 ? x.toFixed(2) : x.toFixed(3);
const range = (xs: number[]): string => `${ms(Math.min(...xs))}–${ms(Math.max(...xs))}`;

/** p50 and the tail the samples support: "p50 X ms, p99 Y ms (n=…)" or "…, max of n Y ms". */
function lat(f: Lat): string {
  const t =
    f.p99Ms !== null
      ? `p99 ${ms(f.p99Ms)} ms`
      : `${f.p90Ms === null ? "" : `p90 ${ms(f.p90Ms)} ms, `}max ${ms(f.maxMs)} ms`;
  return `p50 ${ms(f.p50Ms)} ms, ${t} (n=${n0(f.samples)})`;
}

/** The README's "Measured" block from bench.json. */
export function measuredBlock(b: BenchJson): string {
  const rows: string[][] = [];
  const cmd = "`npm run bench`";
  const r = b.figures.reconciler;
  if (r) {
    const N = n0(r.tasks);
    const exact = r.steadyPasses.every(
      (p) =>
        p.listTasks === r.expectedPerKind &&
        p.describeTasks === r.expectedPerKind &&
        p.writes === 0 &&
        p.other === 0,
    );
    const calls = exact
      ? `each of ${r.steadyPasses.length} passes: ${r.expectedPerKind} ListTasks + ${r.expectedPerKind} DescribeTasks, **0 writes**, nothing else (= ⌈N/100⌉ each, counted by the emulator)`
      : `**not exact**: ${r.steadyPasses.map((p) => `${p.listTasks} L + ${p.describeTasks} D + ${p.writes} W + ${p.other} other`).join("; ")} (expected ${r.expectedPerKind} + ${r.expectedPerKind} + 0)`;
    rows.push([`steady-state pass over ${N} tasks`, calls, cmd]);
    rows.push([
      `CPU per steady pass, ${N} tasks`,
      `median ${ms(r.passCpuMs.median)} ms (${range(r.passCpuMs.samples)}, 5 passes); wall median ${ms(r.passWallMs.median)} ms`,
      cmd,
    ]);
    rows.push([`planner alone, ${N} tasks`, `median ${ms(r.plannerCpuMs.median)} ms CPU (10 runs)`, cmd]);
    rows.push([
      `heap after a full GC, ${N} tasks`,
      r.heapUsedMb === null
        ? `not measured (rss ${n0(r.rssMb)} MB)`
        : `${n0(r.heapUsedMb)} MB (rss ${n0(r.rssMb)} MB)`,
      cmd,
    ]);
    rows.push([
      `config \`SET\` → first RunTask, ${N} tasks`,
      `median ${ms(r.configToFirstRunTaskMs.median)} ms (${r.configToFirstRunTaskMs.samples.map(ms).join(", ")})`,
      cmd,
    ]);
  }
  const c = b.figures.claims;
  if (c) {
    const floor = c.ping.p50Ms;
    const x = (f: Lat): string => `${(f.p50Ms / floor).toFixed(1)}× PING`;
    rows.push(["Redis PING (the floor), 1 caller", lat(c.ping), cmd]);
    rows.push(["claim script (Lua) alone, 1 caller", `${lat(c.luaClaim)}; p50 = ${x(c.luaClaim)}`, cmd]);
    for (const [name, m] of [
      ["library claim (→ Lua)", c.libraryAssign],
      ["library claim → ready (stand-in bridge)", c.libraryClaim],
    ] as const) {
      for (const [conc, f] of Object.entries(m)) {
        rows.push([
          `${name}, ${conc} caller${conc === "1" ? "" : "s"}`,
          `${lat(f)}; ${n0(f.perSecond)} claims/s${conc === "1" ? `; p50 = ${x(f)}` : ""}`,
          cmd,
        ]);
      }
    }
    const g = c.gatewayPair.gateway;
    const l = c.gatewayPair.library;
    const p = g.gatewayProcess;
    rows.push([
      `library claim → ready, 64 callers, interleaved with the gateway`,
      `${lat(l)}; ${n0(l.perSecond)} claims/s`,
      cmd,
    ]);
    rows.push([
      "gateway HTTP claim → ready, 64 clients (own process), interleaved",
      `${lat(g)}; ${n0(g.perSecond)} claims/s; p99 = ${((g.p99Ms ?? NaN) / (l.p99Ms ?? NaN)).toFixed(2)}× the library's`,
      cmd,
    ]);
    rows.push([
      "gateway process during those claims",
      `${n0(g.gatewayCpuUsPerClaim)} µs CPU per claim; event-loop delay p99 ${ms(p.eventLoopDelayMs.p99)} ms (worst round), max ${ms(p.eventLoopDelayMs.max)} ms; GC ${n0(p.gc.count)}× (${ms(p.gc.totalMs)} ms, longest ${ms(p.gc.maxMs)} ms); non-201 answers ${g.failed}`,
      cmd,
    ]);
    rows.push(["claim → ready with a real `warmpool bridge` starting a real agent", lat(c.realBridge), cmd]);
  }
  for (const s of b.figures.sim ?? []) {
    rows.push([
      `a simulated day at 1 claim/s, ${s.name}`,
      `${s.wallS.toFixed(1)} s wall, ${s.cpuS.toFixed(1)} s CPU (${n0(s.claims)} claims, ${n0(s.passes)} planner passes)`,
      cmd,
    ]);
  }
  const when = b.finishedAt.slice(0, 16).replace("T", " ");
  const load = b.machine.loadAverage1m;
  return [
    `One run of \`npm run bench\` (${when} UTC, ${b.machine.cpus} cores, Node ${b.machine.node}, load average ${load.before} before and ${load.after} after), from [docs/bench.json](docs/bench.json). A tail names its sample count; p99 is given only from 1,000 samples or more, else the largest sample (max).`,
    "",
    ...mdTable(["what", "figure", "command"], rows, 3),
  ].join("\n");
}

/** Every stated target with this run's result; the reconciler's per-pass counts folded into one line. */
export function targetsBlock(b: BenchJson): string {
  const lines: string[] = [];
  const perPass = b.targets.filter((t) => /^reconciler\.pass\d+\./.test(t.id));
  if (perPass.length > 0) {
    const ok = perPass.filter((t) => t.ok).length;
    lines.push(
      `- ${ok === perPass.length ? "**pass**" : "**MISS**"}: every steady pass makes exactly ⌈N/100⌉ ListTasks, exactly ⌈N/100⌉ DescribeTasks, 0 writes and no other ECS call (${ok} of ${perPass.length} per-pass counts exact)`,
    );
  }
  for (const t of b.targets.filter((x) => !perPass.includes(x))) {
    const v = Number.isInteger(t.value) || Math.abs(t.value) >= 100 ? n0(t.value) : t.value.toFixed(2);
    lines.push(`- ${t.ok ? "**pass**" : "**MISS**"}: ${t.rule} — ${v}${t.unit ? ` ${t.unit}` : ""}`);
  }
  const missed = b.targets.filter((t) => !t.ok).length;
  return [
    `${b.allTargetsMet ? "Every target met" : `${missed} target(s) missed${b.failures.length ? `, ${b.failures.length} bench(es) failed` : ""}`} in that run (\`npm run bench\` exits 1 on any miss)${b.tighten !== 1 ? `, targets tightened ${b.tighten}× by BENCH_TIGHTEN` : ""}:`,
    "",
    ...lines,
  ].join("\n");
}

/** docs/reconciler.md's benchmark table. */
export function reconcilerBlock(b: BenchJson): string {
  const r = b.figures.reconciler;
  if (!r) return "(no reconciler figures in docs/bench.json)";
  const passes = r.steadyPasses.map((p) => `${p.listTasks} + ${p.describeTasks} + ${p.writes}`).join(", ");
  const rows = [
    [
      "ECS calls per steady-state pass (ListTasks + DescribeTasks + writes)",
      `${passes} (expected ${r.expectedPerKind} + ${r.expectedPerKind} + 0 each)`,
    ],
    [
      "CPU per pass (reconciler process)",
      `median ${ms(r.passCpuMs.median)} ms (${range(r.passCpuMs.samples)})`,
    ],
    ["wall per pass", `median ${ms(r.passWallMs.median)} ms (${range(r.passWallMs.samples)})`],
    ["planner alone (CPU)", `median ${ms(r.plannerCpuMs.median)} ms`],
    [
      "heap used after a full GC",
      r.heapUsedMb === null
        ? `not measured (rss ${n0(r.rssMb)} MB)`
        : `${n0(r.heapUsedMb)} MB (rss ${n0(r.rssMb)} MB)`,
    ],
    [
      "plain `SET` of the config key → first RunTask",
      `median ${ms(r.configToFirstRunTaskMs.median)} ms (${r.configToFirstRunTaskMs.samples.map(ms).join(", ")})`,
    ],
  ];
  const when = b.finishedAt.slice(0, 16).replace("T", " ");
  return [
    `From [docs/bench.json](bench.json) (${when} UTC, load average ${b.machine.loadAverage1m.before} → ${b.machine.loadAverage1m.after}; the same run as the README's "Measured" table):`,
    "",
    ...mdTable([`figure (${n0(r.tasks)} tasks)`, "measured"], rows, 2),
  ].join("\n");
}

/** The README's sizing table, from the generated docs/figures/comparison.md. */
export function sizingBlock(comparisonMd: string): string {
  const rows = comparisonMd
    .split("\n")
    .filter((l) => l.startsWith("| ") && !l.startsWith("| profile") && !l.startsWith("| ---"))
    .map((l) =>
      l
        .slice(2, -2)
        .split(" | ")
        .map((x) => x.trim()),
    );
  if (rows.length === 0) throw new Error("docs/figures/comparison.md: no table rows");
  const out = rows.map((r) => {
    const [profile, policy, hits, , , , idle, , , runTasks] = r as string[];
    const best = rows.find((x) => x[0] === profile && x[1]!.startsWith("best static"));
    const adaptive = policy!.startsWith("adaptive");
    const label = policy!.startsWith("best static")
      ? `best static (${policy!.split(" ")[2]!.split("/")[0]})`
      : adaptive
        ? "adaptive"
        : policy!;
    const idleH = n0(Number(idle));
    const vsBest =
      adaptive && best
        ? ` (${Math.round(((Number(idle) - Number(best[6])) / Number(best[6])) * 100)}%)`.replace("(-", "(−")
        : "";
    const b = (s: string): string => (adaptive ? `**${s}**` : s);
    return [profile!, b(label), b(hits!), b(`${idleH}${vsBest}`), n0(Number(runTasks))];
  });
  return mdTable(["profile", "policy", "warm hits", "idle task-h", "RunTask calls"], out, 2).join("\n");
}

/** docs/sim.md's results table and its one-line reading, from the same comparison.md. */
export function simResultsBlock(comparisonMd: string): string {
  const rows = comparisonMd
    .split("\n")
    .filter((l) => l.startsWith("| ") && !l.startsWith("| profile") && !l.startsWith("| ---"))
    .map((l) =>
      l
        .slice(2, -2)
        .split(" | ")
        .map((x) => x.trim()),
    );
  const keep = [0, 1, 2, 4, 5, 6, 7, 9];
  const head = [
    "profile",
    "policy",
    "warm hits",
    "wait p99",
    "wait max",
    "idle task-h",
    "total task-h",
    "RunTask calls",
  ];
  const saving = (profile: string): string => {
    const best = rows.find((r) => r[0] === profile && r[1]!.startsWith("best static"));
    const ad = rows.find((r) => r[0] === profile && r[1]!.startsWith("adaptive"));
    if (!best || !ad) return "?";
    return `${Math.round((1 - Number(ad[6]) / Number(best[6])) * 100)}%`;
  };
  return [
    ...mdTable(
      head,
      rows.map((r) => keep.map((i) => r[i] ?? "")),
      2,
    ),
    "",
    `Adaptive's idle task-hours against the smallest static size that reaches the 99.5% goal: ${saving("diurnal")} fewer (diurnal), ${saving("bursty")} fewer (bursty).`,
  ].join("\n");
}

export interface Block {
  file: string;
  name: string;
  text: string;
}

export function blocks(root = packageRoot(), benchFile = join(root, "docs/bench.json")): Block[] {
  const b = JSON.parse(readFileSync(benchFile, "utf8")) as BenchJson;
  const comparison = readFileSync(join(root, "docs/figures/comparison.md"), "utf8");
  return [
    { file: "README.md", name: "measured", text: measuredBlock(b) },
    { file: "README.md", name: "targets", text: targetsBlock(b) },
    { file: "README.md", name: "sizing", text: sizingBlock(comparison) },
    { file: "docs/sim.md", name: "sim-results", text: simResultsBlock(comparison) },
    { file: "docs/reconciler.md", name: "reconciler", text: reconcilerBlock(b) },
  ];
}

const markers = (name: string): [string, string] => [
  `<!-- bench:${name}:begin -->`,
  `<!-- bench:${name}:end -->`,
];

/** The file's text with the block replaced; throws when its markers are missing. */
export function withBlock(text: string, blk: Block): string {
  const [begin, end] = markers(blk.name);
  const a = text.indexOf(begin);
  const z = text.indexOf(end);
  if (a < 0 || z < a) throw new Error(`${blk.file}: markers ${begin} … ${end} missing`);
  return `${text.slice(0, a + begin.length)}\n<!-- generated by hack/checks/bench-tables.ts; do not edit -->\n\n${blk.text}\n\n${text.slice(z)}`;
}

function main(): void {
  const root = packageRoot();
  const i = process.argv.indexOf("--bench");
  const benchFile = i > 0 ? process.argv[i + 1] : undefined;
  const all = blocks(root, benchFile);
  const write = process.argv.includes("--write");
  const drifted: string[] = [];
  const files = new Map<string, string>();
  for (const blk of all) {
    const have = files.get(blk.file) ?? readFileSync(join(root, blk.file), "utf8");
    const want = withBlock(have, blk);
    if (want !== have) drifted.push(`${blk.file} (${blk.name})`);
    files.set(blk.file, want);
  }
  if (write) {
    for (const [file, text] of files) writeFileSync(join(root, file), text);
    console.log(`bench tables: ${drifted.length ? `rewrote ${drifted.join(", ")}` : "already current"}`);
    return;
  }
  if (drifted.length > 0) {
    console.error(
      `bench tables: ${drifted.join(", ")} differ from what docs/bench.json and docs/figures/comparison.md generate; ` +
        "run `npx tsc -p . && node dist/hack/checks/bench-tables.js --write` (after `npm run bench` for new figures) and commit the result",
    );
    process.exit(1);
  }
  console.log(
    "bench tables: README.md and docs/reconciler.md match docs/bench.json and docs/figures/comparison.md",
  );
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) main();
