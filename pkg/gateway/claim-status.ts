/**
 * `GET …/claims/{claimId}`: where a claim stands, read from its record and its lease in one MULTI
 * (O(1)): state, user, task, warm or cold, when it began, until when its lease runs and when it
 * ended. Never the session's endpoint or token: those go only to the caller the claim answered.
 * Undefined for a claim the pool does not hold (never made, or its record's retention passed).
 */
import type { Redis } from "ioredis";
import type { ClaimStatusBody } from "../api/index.js";
import { validateClaimId, type ClaimKeys } from "../claims/index.js";

export async function readClaimStatus(
  redis: Redis,
  keys: ClaimKeys,
  claimId: string,
): Promise<ClaimStatusBody | undefined> {
  validateClaimId(claimId);
  const replies = await redis
    .multi()
    .hmget(keys.claim(claimId), "state", "userId", "taskId", "warm", "createdAt", "endedAt")
    .zscore(keys.claims, claimId)
    .exec();
  if (!replies) throw new Error("reading a claim: the transaction was discarded");
  const failed = replies.find(([err]) => err);
  if (failed?.[0]) throw new Error("reading a claim", { cause: failed[0] });
  const [fields, lease] = replies.map(([, v]) => v) as [(string | null)[], string | null];
  const [state, userId, taskId, warm, createdAt, endedAt] = fields;
  if (!state || !userId) return undefined;
  const iso = (ms: string | null | undefined): string | null =>
    ms === null || ms === undefined || !Number.isFinite(Number(ms))
      ? null
      : new Date(Number(ms)).toISOString();
  const live = state === "waiting" || state === "assigned" || state === "ready";
  return {
    claimId,
    state: state as ClaimStatusBody["state"],
    userId,
    taskId: taskId || null,
    warm: warm === "1",
    createdAt: iso(createdAt),
    leaseExpiresAt: live ? iso(lease) : null,
    endedAt: live ? null : iso(endedAt),
  };
}
