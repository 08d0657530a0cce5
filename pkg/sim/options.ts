/**
 * From command-line options to a validated scenario. Knows the flag names, their units
 * (seconds and hours on the command line, ms inside) and the defaults; reports every problem at
 * once, each naming the flag and the rule.
 */
import { parseTrace } from "./trace.js";
import { PROFILE_NAMES, profile, type ProfileName } from "./profiles.js";
import {
  DEFAULT_ADAPTIVE,
  DEFAULT_ECS,
  DEFAULT_RECONCILER,
  ORIGIN_DESIRED,
  defaultScenario,
  validateScenario,
  type Scenario,
} from "./scenario.js";

export interface SimFlags {
  profile: string;
  /** CSV text of a trace (the command reads the file), and its name for messages. */
  trace?: { text: string; name: string };
  rate: number;
  hours: number;
  seed: number;
  policy: string;
  minWarm: number;
  maxWarm: number;
  replenishThreshold: number;
  maxTasks: number;
  window: number;
  targetHitRate: number;
  scaleDownDelay: number;
  startMedian: number;
  startP90: number;
  resync: number;
  sessionMedian: number;
  price: number;
}

export const SIM_DEFAULTS: SimFlags = {
  profile: "diurnal",
  rate: 1,
  hours: 24,
  seed: 1,
  policy: "static",
  minWarm: ORIGIN_DESIRED.minWarm,
  maxWarm: ORIGIN_DESIRED.maxWarm,
  replenishThreshold: ORIGIN_DESIRED.replenishThreshold,
  maxTasks: ORIGIN_DESIRED.maxTasks,
  window: DEFAULT_ADAPTIVE.windowMs / 1000,
  targetHitRate: DEFAULT_ADAPTIVE.targetHitRate,
  scaleDownDelay: DEFAULT_ADAPTIVE.scaleDownDelayMs / 1000,
  startMedian: DEFAULT_ECS.startMedianMs / 1000,
  startP90: DEFAULT_ECS.startP90Ms / 1000,
  resync: DEFAULT_RECONCILER.resyncMs / 1000,
  sessionMedian: 180,
  price: 0.05,
};

export function scenarioFromFlags(f: SimFlags): Scenario {
  const errs: string[] = [];
  if (f.policy !== "static" && f.policy !== "adaptive")
    errs.push(`--policy: must be "static" or "adaptive", got "${f.policy}"`);
  if (!f.trace && !(PROFILE_NAMES as readonly string[]).includes(f.profile))
    errs.push(`--profile: must be one of ${PROFILE_NAMES.join(", ")}, got "${f.profile}"`);
  if (!(f.hours > 0) || !Number.isFinite(f.hours)) errs.push(`--hours: must be a number > 0, got ${f.hours}`);
  if (!(f.rate >= 0)) errs.push(`--rate: must be a number ≥ 0, got ${f.rate}`);
  if (!(f.startP90 >= f.startMedian))
    errs.push(`--start-p90: must be ≥ --start-median (${f.startMedian} s), got ${f.startP90} s`);
  let scenario: Scenario | undefined;
  try {
    const durationMs = f.hours * 3_600_000;
    scenario = defaultScenario({
      seed: f.seed,
      durationMs,
      demand: f.trace
        ? { kind: "trace", claims: parseTrace(f.trace.text, f.trace.name), name: f.trace.name }
        : {
            kind: "poisson",
            profile: profile(f.profile as ProfileName, { ratePerS: f.rate }),
            session: { medianMs: f.sessionMedian * 1000, sigma: 0.7 },
          },
      ecs: { ...DEFAULT_ECS, startMedianMs: f.startMedian * 1000, startP90Ms: f.startP90 * 1000 },
      reconciler: { ...DEFAULT_RECONCILER, resyncMs: f.resync * 1000 },
      desired: {
        ...ORIGIN_DESIRED,
        minWarm: f.minWarm,
        maxWarm: f.maxWarm,
        replenishThreshold: f.replenishThreshold,
        maxTasks: f.maxTasks,
      },
      policy:
        f.policy === "adaptive"
          ? {
              ...DEFAULT_ADAPTIVE,
              windowMs: f.window * 1000,
              targetHitRate: f.targetHitRate,
              scaleDownDelayMs: f.scaleDownDelay * 1000,
            }
          : { kind: "static" },
      pricePerTaskHour: f.price,
      sampleMs: Math.max(60_000, Math.round(durationMs / 288 / 60_000) * 60_000),
    });
  } catch (e) {
    errs.push((e as Error).message);
  }
  if (scenario) {
    const problems = validateScenario(scenario).filter((m) => !m.startsWith("ecs.startP90Ms"));
    errs.push(...problems.map(flagName));
  }
  if (errs.length || !scenario) throw new Error(errs.join("\n"));
  return scenario;
}

/** Scenario field paths → the flag a user typed. */
function flagName(msg: string): string {
  const map: [RegExp, string][] = [
    [/^desired\.minWarm/, "--min-warm"],
    [/^desired\.maxWarm/, "--max-warm"],
    [/^desired\.replenishThreshold/, "--replenish-threshold"],
    [/^desired\.maxTasks/, "--max-tasks"],
    [/^desired:/, "--min-warm/--max-warm/--replenish-threshold/--max-tasks:"],
    [/^policy\.windowMs/, "--window"],
    [/^policy\.targetHitRate/, "--target-hit-rate"],
    [/^policy\.scaleDownDelayMs/, "--scale-down-delay"],
    [/^ecs\.startMedianMs/, "--start-median"],
    [/^ecs\.startP90Ms/, "--start-p90"],
    [/^reconciler\.resyncMs/, "--resync"],
    [/^demand\.session\.medianMs/, "--session-median"],
    [/^demand\.rate/, "--rate"],
    [/^pricePerTaskHour/, "--price"],
    [/^seed/, "--seed"],
  ];
  for (const [re, flag] of map)
    if (re.test(msg)) return msg.replace(/^[^:]+:?/, flag.endsWith(":") ? flag : `${flag}:`);
  return msg;
}
