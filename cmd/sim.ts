/**
 * `warmpool sim`: capacity simulation over the production planner on a virtual clock. Options →
 * scenario (pkg/sim validates) → run or compare → table / JSON on stdout, SVG chart to a file.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { CommandModule } from "yargs";
import {
  PROFILE_NAMES,
  SIM_DEFAULTS,
  chartSvg,
  compareProfile,
  comparisonMarkdown,
  productionPlan,
  progressBar,
  runSim,
  scenarioFromFlags,
  table,
  toJson,
  type SimFlags,
} from "../pkg/sim/index.js";

const FIGURE_PROFILES = ["diurnal", "bursty"] as const;
const FIGURES_COMMAND = "warmpool sim --figures docs/figures";

interface Args extends SimFlags {
  traceFile?: string;
  output: "table" | "json";
  chart?: string;
  compare: boolean;
  goal: number;
  figures?: string;
}

export const simCommand: CommandModule<object, Args> = {
  command: "sim",
  describe: "simulate the pool on a virtual clock over the production planner (a day in seconds)",
  builder: (y) =>
    y
      .option("profile", {
        type: "string",
        default: SIM_DEFAULTS.profile,
        choices: [...PROFILE_NAMES],
        describe: "demand rate profile",
      })
      .option("trace-file", {
        type: "string",
        describe: "replay a CSV of claim_at,session_s instead of a profile",
      })
      .option("rate", { type: "number", default: SIM_DEFAULTS.rate, describe: "mean claims per second" })
      .option("hours", { type: "number", default: SIM_DEFAULTS.hours, describe: "simulated hours" })
      .option("seed", { type: "number", default: SIM_DEFAULTS.seed, describe: "seed: same seed, same run" })
      .option("policy", { type: "string", default: SIM_DEFAULTS.policy, choices: ["static", "adaptive"] })
      .option("min-warm", { type: "number", default: SIM_DEFAULTS.minWarm })
      .option("max-warm", { type: "number", default: SIM_DEFAULTS.maxWarm })
      .option("replenish-threshold", { type: "number", default: SIM_DEFAULTS.replenishThreshold })
      .option("max-tasks", { type: "number", default: SIM_DEFAULTS.maxTasks })
      .option("window", {
        type: "number",
        default: SIM_DEFAULTS.window,
        describe: "adaptive: arrival-rate window (s)",
      })
      .option("target-hit-rate", {
        type: "number",
        default: SIM_DEFAULTS.targetHitRate,
        describe: "adaptive: hit-rate quantile",
      })
      .option("scale-down-delay", {
        type: "number",
        default: SIM_DEFAULTS.scaleDownDelay,
        describe: "adaptive: seconds before a lower target applies",
      })
      .option("start-median", {
        type: "number",
        default: SIM_DEFAULTS.startMedian,
        describe: "task start median (s)",
      })
      .option("start-p90", { type: "number", default: SIM_DEFAULTS.startP90, describe: "task start p90 (s)" })
      .option("resync", {
        type: "number",
        default: SIM_DEFAULTS.resync,
        describe: "reconciler resync interval (s)",
      })
      .option("session-median", {
        type: "number",
        default: SIM_DEFAULTS.sessionMedian,
        describe: "session length median (s)",
      })
      .option("price", { type: "number", default: SIM_DEFAULTS.price, describe: "$ per task-hour" })
      .option("output", { type: "string", default: "table", choices: ["table", "json"] as const })
      .option("chart", {
        type: "string",
        describe: "write an SVG chart (demand, warm pool, waits) to this file",
      })
      .option("compare", {
        type: "boolean",
        default: false,
        describe: "origin 5/20/3 vs best static (sweep) vs adaptive",
      })
      .option("goal", {
        type: "number",
        default: 0.995,
        describe: "hit-rate goal for --compare and --figures",
      })
      .option("figures", {
        type: "string",
        describe: "write the diurnal and bursty comparisons (SVG + Markdown) here",
      })
      .example(
        "$0 sim --profile diurnal --policy adaptive --chart day.svg",
        "one day of diurnal demand, adaptive pool",
      )
      .example("$0 sim --profile bursty --compare", "static 5/20/3 vs the best static size vs adaptive")
      .example("$0 sim --trace-file claims.csv --min-warm 12 --output json", "replay recorded claims")
      .example(`$0 ${FIGURES_COMMAND.replace("warmpool ", "")}`, "regenerate the README figures") as never,
  handler: (a) => {
    try {
      run(a);
    } catch (err) {
      console.error(`warmpool sim: ${(err as Error).message}`);
      process.exitCode = 2;
    }
  },
};

function run(a: Args): void {
  const flags: SimFlags = { ...a };
  if (a.traceFile) flags.trace = { text: readFileSync(a.traceFile, "utf8"), name: a.traceFile };
  const bar = a.output === "table" ? progressBar() : progressBar({ isTTY: false } as NodeJS.WriteStream);
  if (a.figures) {
    mkdirSync(a.figures, { recursive: true });
    const all = FIGURE_PROFILES.map((name) => {
      const c = compareProfile(
        name,
        scenarioFromFlags({ ...flags, profile: name, trace: undefined }),
        productionPlan,
        a.goal,
        {
          onRun: (label) => bar.update(0, `${name}: ${label}`),
          onProgress: (d) => bar.update(d),
        },
      );
      writeFileSync(join(a.figures!, `${name}.svg`), c.svg);
      return c;
    });
    bar.done();
    writeFileSync(join(a.figures, "comparison.md"), comparisonMarkdown(all, FIGURES_COMMAND));
    console.log(
      a.output === "json"
        ? toJson(all.map((c) => ({ name: c.name, ...c.comparison })))
        : all.map((c) => c.text).join("\n\n"),
    );
    if (!all.every((c) => c.comparison.adaptiveWins)) process.exitCode = 1;
    return;
  }
  const scenario = scenarioFromFlags(flags);
  if (a.compare) {
    const name = a.traceFile ?? a.profile;
    const c = compareProfile(name, scenario, productionPlan, a.goal, {
      onRun: (label) => bar.update(0, label),
      onProgress: (d) => bar.update(d),
    });
    bar.done();
    if (a.chart) writeFileSync(a.chart, c.svg);
    console.log(a.output === "json" ? toJson(c.comparison) : c.text);
    return;
  }
  const { result } = runSim(scenario, { onProgress: (d) => bar.update(d, result0Label(a)) });
  bar.done();
  if (a.chart)
    writeFileSync(
      a.chart,
      chartSvg(`${a.traceFile ?? a.profile}: ${result.label} (seed ${a.seed})`, [result]),
    );
  console.log(a.output === "json" ? toJson(result) : table([result]));
}

function result0Label(a: Args): string {
  return `${a.traceFile ?? a.profile}, ${a.policy}`;
}
