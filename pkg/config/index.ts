export { DEFAULT_DESIRED, type DesiredState, type AsgDesired } from "./types.js";
export { LIMITS, TASK_DEFINITION, ASG_POOL_STATES } from "./limits.js";
export {
  validateDesiredState,
  formatConfigErrors,
  DEFAULT_ASG,
  type ConfigError,
  type ConfigRule,
  type ValidationResult,
} from "./validate.js";
export { parseDesiredState } from "./parse.js";
