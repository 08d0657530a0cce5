export * from "./types.js";
export {
  EcsDriver,
  TaskDefinitionUnusable,
  type EcsDriverOptions,
  type NetworkConfig,
  type Placement,
} from "./driver.js";
export { Caller, DEFAULT_RETRY, type CallerMetrics, type CallerOptions, type RetryPolicy } from "./caller.js";
export { observeEcs, type EcsObservation, type ObserveOptions } from "./observe.js";
export { launchTasks, type LaunchResult } from "./launch.js";
export { TokenBucket, type CallBudget } from "./token-bucket.js";
export { classifyError, backoffMs, type ErrorClass } from "./errors.js";
export {
  taskIdOf,
  toEcsTask,
  containerInstanceOf,
  isPoolTask,
  poolGroup,
  type HostedEcsTask,
} from "./to-ecs-task.js";
