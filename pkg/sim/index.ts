/**
 * `warmpool sim`: a virtual-time capacity simulation over the production planner. `runSim`
 * binds the real `plan` from pkg/plan, so what the simulator measures is what the reconciler
 * would do; `simulate` takes any PlanFn for experiments.
 */
import { plan } from "../plan/index.js";
import type { Scenario } from "./scenario.js";
import { simulate, type SimOptions, type SimRun } from "./simulate.js";

/** The planner every simulation runs unless told otherwise: the reconciler's own. */
export const productionPlan = plan;

export function runSim(s: Scenario, opts: Omit<SimOptions, "plan"> = {}): SimRun {
  return simulate(s, { ...opts, plan: productionPlan });
}

export { simulate, defaultLabel, SIM_REVISION, type SimOptions, type SimRun } from "./simulate.js";
export {
  defaultScenario,
  validateScenario,
  DEFAULT_ECS,
  DEFAULT_RECONCILER,
  DEFAULT_ADAPTIVE,
  DEFAULT_SESSION,
  ORIGIN_DESIRED,
  type Scenario,
  type EcsModel,
  type ReconcilerModel,
  type PolicySpec,
  type DemandSpec,
} from "./scenario.js";
export {
  rateFunction,
  poissonArrivals,
  traceArrivals,
  type RateProfile,
  type SessionModel,
  type Arrival,
} from "./demand.js";
export { parseTrace } from "./trace.js";
export { Prng } from "./prng.js";
export { Ledger, type ClaimEntry, type Transition, type Violations } from "./ledger.js";
export type { SimResult, Series } from "./stats.js";
export { compare, staticDesired, type Comparison, type CompareOptions, type SweepPoint } from "./compare.js";
export {
  compareProfile,
  comparisonMarkdown,
  mdTable,
  COMPARED_ADAPTIVE,
  type ProfileComparison,
} from "./figures.js";
export { profile, PROFILE_NAMES, type ProfileName, type ProfileKnobs } from "./profiles.js";
export { table, comparisonText, toJson } from "./report.js";
export { chartSvg } from "./chart.js";
export { progressBar, type Progress } from "./progress.js";
export { scenarioFromFlags, SIM_DEFAULTS, type SimFlags } from "./options.js";
