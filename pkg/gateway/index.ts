/** The claim gateway: HTTP JSON API over pkg/claims (docs/claims.md). */
export { startGateway, gatewayHandler, type GatewayOptions, type RunningGateway } from "./gateway.js";
export { BearerTokens, loadTokens } from "./auth.js";
export { HttpError, MAX_BODY_BYTES } from "./http-io.js";
export { runGateway, type GatewayConfig } from "./run.js";
export {
  DEFAULT_TIMEOUTS,
  DEFAULT_KEEP_ALIVE_TIMEOUT_MS,
  resolveTimeouts,
  type GatewayTimeouts,
} from "./timeouts.js";
export { PrimaryCheck } from "./readiness.js";
export { GatewayPools, type GatewayPoolsOptions, type ServedPool } from "./pools.js";
