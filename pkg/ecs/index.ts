export * from "./types.js";
export {
  EcsDriver,
  DEFAULT_RETRY,
  type EcsDriverOptions,
  type NetworkConfig,
  type Placement,
  type RetryPolicy,
} from "./driver.js";
export { observeEcs, type EcsObservation, type ObserveOptions } from "./observe.js";
export { launchTasks, type LaunchResult } from "./launch.js";
export { TokenBucket } from "./token-bucket.js";
export { classifyError, backoffMs, type ErrorClass } from "./errors.js";
export { taskIdOf, toEcsTask, containerInstanceOf, type HostedEcsTask } from "./to-ecs-task.js";
