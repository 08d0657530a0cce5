export * from "./types.js";
export { AsgDriver, type AsgDriverOptions } from "./driver.js";
export { Caller, type CallerOptions, type CallerMetrics } from "../ecs/index.js";
export { observeCapacity, type CapacityObservation } from "./observe.js";
export {
  CapacityReconciler,
  type CapacityReconcilerOptions,
  type CapacityPassInput,
  type CapacityPassResult,
  type CapacityMetrics,
  type CapacityLog,
} from "./reconcile.js";
