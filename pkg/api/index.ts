/** The gateway's HTTP contract: request/response schemas, problem details, the OpenAPI document. */
export {
  PROBLEMS,
  PROBLEM_CONTENT_TYPE,
  ProblemSchema,
  problem,
  problemType,
  type Problem,
  type ProblemKind,
  type ProblemExtra,
} from "./problem.js";
export {
  ClaimRequestSchema,
  ClaimSchema,
  ClaimStateSchema,
  ClaimStatusSchema,
  HealthSchema,
  HeartbeatRequestSchema,
  HeartbeatResponseSchema,
  PoolListSchema,
  PoolSummarySchema,
  ReadySchema,
  ReleaseResponseSchema,
  type Claim,
  type ClaimRequestBody,
  type ClaimStateName,
  type ClaimStatusBody,
  type HeartbeatResponse,
  type PoolListBody,
  type PoolSummaryBody,
  type ReleaseResponse,
} from "./schemas.js";
export { openApiDocument } from "./openapi.js";
