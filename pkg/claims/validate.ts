/**
 * Knows what a claim request may say, as zod schemas (the gateway's OpenAPI document is generated
 * from the same ones, pkg/api). Every rule names the field, so a caller (HTTP or library) learns
 * exactly what to fix; nothing is written for an invalid request.
 */
import { z } from "zod";
import { checkUserId, DEFAULT_USER_ID_PATTERN, MAX_USER_ID_LENGTH } from "./user-id.js";
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

export const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,128}$/;
const IDEMPOTENCY_RULE = "must be 1-128 printable ASCII characters without spaces";
export const CLAIM_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export interface ValidClaim {
  userId: string;
  leaseMs: number;
  waitMs: number;
  idempotencyKey?: string;
}

function intIn(min: number, max: number, description: string) {
  return z
    .number({ error: "must be an integer" })
    .int({ error: "must be an integer" })
    .min(min, { error: `must be between ${min} and ${max}` })
    .max(max, { error: `must be between ${min} and ${max}` })
    .meta({ description });
}

/** userId: the configured pattern plus the hard rules of checkUserId (it becomes a directory). */
function userIdSchema(pattern: RegExp) {
  return z
    .string({ error: "must be a string" })
    .check((ctx) => {
      const u = checkUserId(ctx.value, pattern);
      if (!u.ok) ctx.issues.push({ code: "custom", message: u.rule, input: ctx.value });
    })
    .meta({
      description: "who the session is for; becomes the workspace directory name",
      pattern: pattern.source,
      minLength: 1,
      maxLength: MAX_USER_ID_LENGTH,
    });
}

/** The body of `POST /v1/claims` under these limits; unknown fields are errors (typos). */
export function claimBodySchema(limits: ClaimLimits = DEFAULT_LIMITS) {
  return z.strictObject({
    userId: userIdSchema(limits.userIdPattern ?? DEFAULT_USER_ID_PATTERN),
    leaseSeconds: intIn(limits.minLeaseSeconds, limits.maxLeaseSeconds, "lease; heartbeats renew it")
      .optional()
      .meta({ default: limits.defaultLeaseSeconds }),
    waitMs: intIn(0, limits.maxWaitMs, "how long to wait for a task when none is warm (0 = do not queue)")
      .optional()
      .meta({ default: limits.defaultWaitMs }),
  });
}

/** The body of `POST /v1/claims/{claimId}/heartbeat`. */
export function heartbeatBodySchema(limits: ClaimLimits = DEFAULT_LIMITS) {
  return z.strictObject({
    leaseSeconds: intIn(limits.minLeaseSeconds, limits.maxLeaseSeconds, "new lease from now")
      .optional()
      .meta({ default: limits.defaultLeaseSeconds }),
  });
}

export const IdempotencyKeySchema = z
  .string({ error: IDEMPOTENCY_RULE })
  .regex(IDEMPOTENCY_KEY, { error: IDEMPOTENCY_RULE })
  .meta({ description: "same key ⇒ same claim for 24 h, never a second task" });

export const ClaimIdSchema = z
  .string()
  .regex(CLAIM_ID, { error: "must be a claim id (lower-case UUID)" })
  .meta({ description: "claim id (lower-case UUID)" });

/** The library request: the body fields plus the Idempotency-Key (extra properties ignored). */
function claimRequestSchema(limits: ClaimLimits) {
  return claimBodySchema(limits).strip().extend({ idempotencyKey: IdempotencyKeySchema.optional() });
}

const schemas = new WeakMap<ClaimLimits, ReturnType<typeof claimRequestSchema>>();

/** The first issue as InvalidClaimInput; its field is the body field (or Idempotency-Key). */
export function firstInvalid(issues: readonly z.core.$ZodIssue[]): InvalidClaimInput {
  const issue = issues[0]!;
  if (issue.code === "unrecognized_keys") return unknownFieldError(issue.keys[0] ?? "?", []);
  const field = issue.path.map(String).join(".") || "body";
  return new InvalidClaimInput(field === "idempotencyKey" ? "Idempotency-Key" : field, issue.message);
}

export function unknownFieldError(field: string, allowed: readonly string[]): InvalidClaimInput {
  return new InvalidClaimInput(field, `unknown field (allowed: ${allowed.join(", ")})`);
}

/** Throws InvalidClaimInput naming the first offending field. */
export function validateClaimRequest(req: ClaimRequest, limits: ClaimLimits = DEFAULT_LIMITS): ValidClaim {
  let schema = schemas.get(limits);
  if (!schema) schemas.set(limits, (schema = claimRequestSchema(limits)));
  const r = schema.safeParse(req);
  if (!r.success) throw firstInvalid(r.error.issues);
  const v = r.data;
  const out: ValidClaim = {
    userId: v.userId,
    leaseMs: (v.leaseSeconds ?? limits.defaultLeaseSeconds) * 1000,
    waitMs: v.waitMs ?? limits.defaultWaitMs,
  };
  if (v.idempotencyKey !== undefined) out.idempotencyKey = v.idempotencyKey;
  return out;
}

export function validateLeaseSeconds(v: unknown, limits: ClaimLimits = DEFAULT_LIMITS): number {
  const r = heartbeatBodySchema(limits).shape.leaseSeconds.safeParse(v);
  if (!r.success || r.data === undefined) {
    throw new InvalidClaimInput(
      "leaseSeconds",
      r.success ? "must be an integer" : r.error.issues[0]!.message,
    );
  }
  return r.data;
}

export function validateClaimId(v: string): string {
  const r = ClaimIdSchema.safeParse(v);
  if (!r.success) throw new InvalidClaimInput("claimId", r.error.issues[0]!.message);
  return v;
}
