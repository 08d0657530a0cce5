/**
 * The gateway's request and response bodies as zod schemas: the gateway validates with them, the
 * OpenAPI document (openapi.ts) is generated from them, the client (pkg/client) is typed by them.
 */
import { z } from "zod";
import { claimBodySchema, ClaimIdSchema, heartbeatBodySchema } from "../claims/validate.js";

const CLAIM_STATES = [
  "waiting",
  "assigned",
  "ready",
  "failed",
  "released",
  "timeout",
  "expired",
  "ended",
  "lost",
] as const;

export const ClaimStateSchema = z.enum(CLAIM_STATES).meta({ id: "ClaimState" });

export const ClaimRequestSchema = claimBodySchema().meta({ id: "ClaimRequest" });
export const HeartbeatRequestSchema = heartbeatBodySchema().meta({ id: "HeartbeatRequest" });

const leaseExpiresAt = z.iso.datetime().meta({ description: "when the lease runs out unless renewed" });

export const ClaimSchema = z
  .strictObject({
    claimId: ClaimIdSchema,
    taskId: z.string().min(1).meta({ description: "the ECS task serving the session" }),
    endpoint: z.string().min(1).meta({ description: "host:port of the task's session WebSocket" }),
    token: z.string().min(1).meta({ description: "secret the session endpoint accepts" }),
    leaseExpiresAt,
    warm: z.boolean().meta({ description: "false when the claim waited for a new task" }),
  })
  .meta({ id: "Claim", description: "a task ready for the user" });

export const HeartbeatResponseSchema = z
  .strictObject({ claimId: ClaimIdSchema, leaseExpiresAt })
  .meta({ id: "Heartbeat" });

const at = z.iso.datetime().nullable();
export const ClaimStatusSchema = z
  .strictObject({
    claimId: ClaimIdSchema,
    state: ClaimStateSchema,
    userId: z.string().min(1),
    taskId: z.string().min(1).nullable().meta({ description: "the task serving it; null while it waits" }),
    warm: z.boolean().meta({ description: "false when the claim waited for a new task" }),
    createdAt: at.meta({ description: "when the claim was made" }),
    leaseExpiresAt: at.meta({ description: "while the claim is live (waiting, assigned, ready)" }),
    endedAt: at.meta({ description: "when an ended claim ended, when recorded" }),
  })
  .meta({
    id: "ClaimStatus",
    description: "where a claim stands; never the session's endpoint or token",
  });

export const ReleaseResponseSchema = z
  .strictObject({ claimId: ClaimIdSchema, state: ClaimStateSchema })
  .meta({ id: "Release", description: "the claim's final state (released, or how it had ended)" });

const count = z.int().min(0);
export const PoolSummarySchema = z
  .strictObject({
    pool: z.string(),
    tasks: z.strictObject({
      starting: count.nullable().meta({ description: "from the reconciler's last count; null before one" }),
      warm: count,
      claimed: count,
      draining: count.nullable().meta({ description: "from the reconciler's last count; null before one" }),
    }),
    waiting: count.meta({ description: "claims queued for a task" }),
    oldestWarmAgeMs: count.meta({ description: "age of the oldest idle warm task (0 when none)" }),
    countedAt: z.iso
      .datetime()
      .nullable()
      .meta({ description: "when the reconciler counted starting and draining; null when it never did" }),
  })
  .meta({ id: "PoolSummary" });

export const PoolListSchema = z
  .strictObject({
    pools: z.array(
      z.strictObject({
        name: z.string().meta({ description: "the pool, as `/v1/pools/{pool}/…` names it" }),
        state: z.enum(["active", "deleting"]).meta({ description: "a deleting pool takes no new claims" }),
        labels: z.record(z.string(), z.string()),
        default: z.boolean().meta({ description: "the pool the single-pool routes answer for (`--pool`)" }),
      }),
    ),
  })
  .meta({
    id: "PoolList",
    description: "every pool the gateway serves: its default and the registered ones",
  });

export const HealthSchema = z.strictObject({ status: z.literal("ok") }).meta({ id: "Health" });
export const ReadySchema = z.strictObject({ status: z.literal("ready") }).meta({ id: "Ready" });

export type ClaimRequestBody = z.input<typeof ClaimRequestSchema>;
export type Claim = z.infer<typeof ClaimSchema>;
export type HeartbeatResponse = z.infer<typeof HeartbeatResponseSchema>;
export type ReleaseResponse = z.infer<typeof ReleaseResponseSchema>;
export type ClaimStatusBody = z.infer<typeof ClaimStatusSchema>;
export type PoolSummaryBody = z.infer<typeof PoolSummarySchema>;
export type PoolListBody = z.infer<typeof PoolListSchema>;
export type ClaimStateName = z.infer<typeof ClaimStateSchema>;
