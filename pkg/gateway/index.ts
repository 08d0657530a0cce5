/** The claim gateway: HTTP JSON API over pkg/claims (docs/claims.md). */
export { startGateway, gatewayHandler, type GatewayOptions, type RunningGateway } from "./gateway.js";
export { BearerTokens, loadTokens } from "./auth.js";
export { HttpError, MAX_BODY_BYTES } from "./http-io.js";
export { runGateway, type GatewayConfig } from "./run.js";
