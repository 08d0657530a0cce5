/**
 * Knows what a claim request may say. Every rule names the field, so a caller (HTTP or library)
 * learns exactly what to fix; nothing is written for an invalid request.
 */
import { checkUserId } from "./user-id.js";
import type { ClaimRequest } from "./types.js";

export interface ClaimLimits {
  defaultLeaseSeconds: number;
  minLeaseSeconds: number;
  maxLeaseSeconds: number;
  defaultWaitMs: number;
  maxWaitMs: number;
  userIdPattern?: RegExp;
}

export const DEFAULT_LIMITS: ClaimLimits = {
  defaultLeaseSeconds: 300,
  minLeaseSeconds: 5,
  maxLeaseSeconds: 86_400,
  defaultWaitMs: 30_000,
  maxWaitMs: 300_000,
};

export class InvalidClaimInput extends Error {
  constructor(
    readonly field: string,
    readonly rule: string,
  ) {
    super(`${field}: ${rule}`);
    this.name = "InvalidClaimInput";
  }
}

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,128}$/;

export interface ValidClaim {
  userId: string;
  leaseMs: number;
  waitMs: number;
  idempotencyKey?: string;
}

function intIn(field: string, v: unknown, min: number, max: number): number {
  if (typeof v !== "number" || !Number.isInteger(v)) throw new InvalidClaimInput(field, "must be an integer");
  if (v < min || v > max) throw new InvalidClaimInput(field, `must be between ${min} and ${max}`);
  return v;
}

/** Throws InvalidClaimInput naming the first offending field. */
export function validateClaimRequest(req: ClaimRequest, limits: ClaimLimits = DEFAULT_LIMITS): ValidClaim {
  const u = checkUserId(req.userId, limits.userIdPattern);
  if (!u.ok) throw new InvalidClaimInput("userId", u.rule);
  const leaseSeconds =
    req.leaseSeconds === undefined
      ? limits.defaultLeaseSeconds
      : intIn("leaseSeconds", req.leaseSeconds, limits.minLeaseSeconds, limits.maxLeaseSeconds);
  const waitMs =
    req.waitMs === undefined ? limits.defaultWaitMs : intIn("waitMs", req.waitMs, 0, limits.maxWaitMs);
  const out: ValidClaim = { userId: req.userId, leaseMs: leaseSeconds * 1000, waitMs };
  if (req.idempotencyKey !== undefined) {
    if (typeof req.idempotencyKey !== "string" || !IDEMPOTENCY_KEY.test(req.idempotencyKey)) {
      throw new InvalidClaimInput(
        "Idempotency-Key",
        "must be 1-128 printable ASCII characters without spaces",
      );
    }
    out.idempotencyKey = req.idempotencyKey;
  }
  return out;
}

export function validateLeaseSeconds(v: unknown, limits: ClaimLimits = DEFAULT_LIMITS): number {
  return intIn("leaseSeconds", v, limits.minLeaseSeconds, limits.maxLeaseSeconds);
}

const CLAIM_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function validateClaimId(v: string): string {
  if (!CLAIM_ID.test(v)) throw new InvalidClaimInput("claimId", "must be a claim id (lower-case UUID)");
  return v;
}
