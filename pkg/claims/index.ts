/** The claim protocol (DESIGN §3–4): Lua scripts over one pool's Redis keys, for every role. */
export { ClaimService, type ClaimServiceOptions } from "./claim-service.js";
export { NO_QUOTAS, type ClaimQuotas } from "./quotas.js";
export { readSummary, type PoolSummary } from "./summary.js";
export { PoolStore, FencedError, type PoolStoreOptions } from "./pool-store.js";
export { TaskChannel, type RegisterResult, type ReadyResult } from "./task-channel.js";
export { ClaimKeys, ENDED_CLAIM_RETENTION_MS, IDEMPOTENCY_TTL_MS, EVENTS_MAXLEN } from "./claim-keys.js";
export { defineScripts } from "./scripts.js";
export { checkUserId, userIdPattern, DEFAULT_USER_ID_PATTERN, MAX_USER_ID_LENGTH } from "./user-id.js";
export {
  validateClaimRequest,
  validateClaimId,
  validateLeaseSeconds,
  InvalidClaimInput,
  DEFAULT_LIMITS,
  type ClaimLimits,
} from "./validate.js";
export { toTaskRecord, parseSnapshot, isPoolTaskState, type UnrecognizedRecord } from "./records.js";
export type * from "./types.js";
