export {
  DEFAULT_DESIRED,
  DEFAULT_ADAPTIVE,
  type DesiredState,
  type AsgDesired,
  type AdaptiveDesired,
  type WarmPolicy,
} from "./types.js";
export { LIMITS, TASK_DEFINITION, ASG_POOL_STATES, WARM_POLICIES } from "./limits.js";
export {
  validateDesiredState,
  formatConfigErrors,
  DEFAULT_ASG,
  type ConfigError,
  type ConfigRule,
  type ValidationResult,
} from "./validate.js";
export { parseDesiredState } from "./parse.js";
export { DesiredStateSchema, desiredStateJsonSchema } from "./schema.js";
export {
  ConfigStore,
  type ConfigRead,
  type ConfigStoreOptions,
  type HistoryEntry,
  type WriteOptions,
  type WriteResult,
} from "./store.js";
export { DesiredStateTracker, type DesiredUpdate } from "./tracker.js";
export { DesiredStateSource, type DesiredStateSourceOptions } from "./source.js";
