export {
  adaptiveTarget,
  validateAdaptiveParams,
  type AdaptiveParams,
  type AdaptiveInputs,
  type AdaptiveDecision,
  type AdaptiveState,
} from "./adaptive.js";
export { poissonCdf, poissonQuantile } from "./poisson.js";
export { ArrivalRateWindow } from "./rate-window.js";
export { StartTimeWindow } from "./start-window.js";
export { POLICY_METRICS } from "./metric-defs.js";
