/**
 * The library entry of the `ecs-warmpool` package: claim warm tasks in-process (ClaimService, over
 * the pool's Redis), or over HTTP through the gateway (WarmpoolClient, also at
 * `ecs-warmpool/client`); the gateway's schemas and OpenAPI document; the desired-state schema.
 */
export {
  ClaimService,
  InvalidClaimInput,
  DEFAULT_LIMITS,
  type ClaimServiceOptions,
  type ClaimLimits,
  type PoolSummary,
  type ClaimRequest,
  type ClaimResult,
  type ClaimHandle,
  type ReadyClaim,
  type HeartbeatResult,
  type ReleaseResult,
  type ClaimState,
} from "./claims/index.js";
export { WarmpoolClient, GatewayError, type WarmpoolClientOptions, type Heartbeat } from "./client/index.js";
export * from "./api/index.js";
export {
  DesiredStateSchema,
  desiredStateJsonSchema,
  validateDesiredState,
  formatConfigErrors,
  DEFAULT_DESIRED,
  type DesiredState,
  type ConfigError,
} from "./config/index.js";
export { startGateway, gatewayHandler, type GatewayOptions } from "./gateway/index.js";
