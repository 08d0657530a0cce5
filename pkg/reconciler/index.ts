export { Reconciler, type ReconcilerOptions } from "./reconciler.js";
export {
  startReconcilerProcess,
  wirePool,
  REDIS_OPTIONS,
  budgetLimits,
  type ReconcilerProcess,
  type ProcessDeps,
  type PoolWiring,
  type SharedWiring,
} from "./process.js";
export { startFleetProcess, type FleetProcess } from "./fleet-process.js";
export {
  buildConfig,
  parseDuration,
  FLAGS,
  LAUNCH_TYPES,
  LOG_LEVELS,
  OBSERVE,
  type ReconcilerConfig,
  type FleetConfig,
} from "./options.js";
export { createDesiredSource, type DesiredSourceOptions } from "./desired-source.js";
export { startOpsServer, type OpsServer, type HealthChecks } from "./http.js";
export { PassTrigger, type Wake } from "./triggers.js";
export type { PoolState, DesiredSource, DesiredReading, DesiredStatus } from "./ports.js";
export type { StatusSnapshot, PassResult } from "./status.js";
