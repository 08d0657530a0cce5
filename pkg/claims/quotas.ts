/**
 * What bounds a caller's claims beyond one request's validity: the concurrent-claim quotas and the
 * waiting-queue bound (enforced by claim-8+.lua, so every gateway shares them), and the caller's
 * abort signal (a caller gone before the answer releases its claim).
 */
import type { ClaimHandle, ClaimQuota, ClaimResult, ReleaseResult } from "./types.js";
import { InvalidClaimInput } from "./validate.js";

/** Limits on live claims, counted in Redis so every gateway shares them; 0 = no limit. */
export interface ClaimQuotas {
  /** Live (waiting, assigned or ready) claims one user may hold. */
  perUser: number;
  /** Live claims one client (`ClaimRequest.clientId`, a bearer token at the gateway) may hold. */
  perClient: number;
  /** Claims the waiting queue may hold; a claim that would queue past it is rejected. */
  maxWaiting: number;
}

export const NO_QUOTAS: ClaimQuotas = { perUser: 0, perClient: 0, maxWaiting: 0 };

const CLIENT_ID = /^[\x21-\x7e]{1,128}$/;

/** Throws InvalidClaimInput unless the client id is absent or 1-128 printable ASCII characters. */
export function checkClientId(clientId: unknown): void {
  if (clientId === undefined) return;
  if (typeof clientId !== "string" || !CLIENT_ID.test(clientId))
    throw new InvalidClaimInput("clientId", "must be 1-128 printable ASCII characters without spaces");
}

/** The claim script's refusal ({-4, quota, limit} or {-5, queued}) as a typed result. */
export function rejected(reply: (string | number)[], userId: string): ClaimResult {
  if (Number(reply[0]) === -5) {
    const n = Number(reply[1]);
    return {
      outcome: "rejected",
      quota: "waiting",
      limit: n,
      reason: `the pool has no warm task and the waiting queue is full (${n} claims waiting)`,
    };
  }
  const quota = String(reply[1]) as ClaimQuota;
  const limit = Number(reply[2]);
  const who = quota === "user" ? `user ${userId}` : "this client (bearer token)";
  return {
    outcome: "rejected",
    quota,
    limit,
    reason: `${who} already holds ${limit} live claims (the per-${quota} quota); release one first`,
  };
}

/**
 * Releases a fresh claim (queued or assigned) through `abandon` when the caller's signal aborts
 * before its result settles (the caller calls `stop()` once it has): the release notice then
 * settles the result as `ended`. A replay is left alone (the earlier claim belongs to the call
 * that made it).
 */
export function watchCaller(
  signal: AbortSignal | undefined,
  handle: ClaimHandle,
  abandon: (claimId: string) => Promise<ReleaseResult>,
): { readonly fired: boolean; stop(): void } {
  const claimId = handle.claimId;
  const w = { fired: false, stop: () => undefined as void };
  if (!signal || !claimId || (handle.stage !== "assigned" && handle.stage !== "queued")) return w;
  const onAbort = (): void => {
    w.fired = true;
    void abandon(claimId).catch(() => undefined);
  };
  w.stop = () => signal.removeEventListener("abort", onAbort);
  if (signal.aborted) onAbort();
  else signal.addEventListener("abort", onAbort, { once: true });
  return w;
}
