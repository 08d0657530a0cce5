/** The gateway's typed client (docs/client.md): `import { WarmpoolClient } from "ecs-warmpool/client"`. */
export {
  WarmpoolClient,
  GatewayError,
  type WarmpoolClientOptions,
  type CallOptions,
  type ClaimOptions,
  type Heartbeat,
} from "./client.js";
export type {
  Claim,
  ClaimRequestBody,
  ClaimStatusBody,
  HeartbeatResponse,
  PoolListBody,
  PoolSummaryBody,
  Problem,
  ReleaseResponse,
} from "../api/index.js";
