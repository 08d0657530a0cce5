/**
 * One error shape for every gateway route: RFC 9457 problem details, served as
 * `application/problem+json`. `type` names the kind of problem (stable, for code to switch on),
 * `title` its summary, `detail` this occurrence (`<field>: <rule>` for bad input), `field` the
 * offending field. Claim problems add `claimId` and `state` where there is one, pool problems `pool`.
 */
import { z } from "zod";

export const PROBLEM_CONTENT_TYPE = "application/problem+json";

/** Every problem the gateway answers with: kind → title. */
export const PROBLEMS = {
  "invalid-input": "The request is invalid",
  unauthorized: "A valid bearer token is required",
  "not-found": "No such resource",
  "method-not-allowed": "Method not allowed",
  "payload-too-large": "The request body is too large",
  "idempotency-conflict": "The Idempotency-Key belongs to another claim",
  "quota-exceeded": "Too many live claims",
  "claim-ended": "The claim has ended",
  "claim-waiting": "The claim is still waiting for a task",
  "pool-deleting": "The pool is being deleted",
  "no-task-ready": "No task was ready in time",
  "session-failed": "The task could not start the session",
  "redis-unavailable": "The pool's Redis is unavailable",
  "not-ready": "The gateway is not ready",
  internal: "Internal error",
} as const;

export type ProblemKind = keyof typeof PROBLEMS;

/** The `type` URI of a problem kind. */
export function problemType(kind: ProblemKind): string {
  return `urn:ecs-warmpool:problem:${kind}`;
}

export const ProblemSchema = z
  .looseObject({
    type: z
      .enum(Object.keys(PROBLEMS).map((k) => problemType(k as ProblemKind)) as [string, ...string[]])
      .meta({ description: "the kind of problem, `urn:ecs-warmpool:problem:<kind>`" }),
    title: z.string().meta({ description: "summary of the kind of problem" }),
    status: z.int().min(400).max(599).meta({ description: "the HTTP status code" }),
    detail: z.string().meta({ description: "this occurrence; `<field>: <rule>` for bad input" }),
    field: z.string().optional().meta({ description: "the offending field (body field or header)" }),
    claimId: z.string().optional().meta({ description: "the claim this problem is about" }),
    pool: z.string().optional().meta({ description: "the pool this problem is about" }),
    state: z.string().optional().meta({ description: "the claim's state, when it has ended" }),
    quota: z
      .enum(["user", "client", "waiting"])
      .optional()
      .meta({ description: "the quota that refused the claim (per user, per bearer token, queue bound)" }),
    limit: z.int().min(0).optional().meta({ description: "that quota's limit" }),
  })
  .meta({ id: "Problem", description: "RFC 9457 problem details" });

export type Problem = z.infer<typeof ProblemSchema>;

/** The extension members a problem may carry beside the RFC 9457 ones. */
export interface ProblemExtra {
  field?: string;
  claimId?: string;
  pool?: string;
  state?: string;
  quota?: "user" | "client" | "waiting";
  limit?: number;
}

export function problem(
  kind: ProblemKind,
  status: number,
  detail: string,
  extra: ProblemExtra = {},
): Problem {
  return { type: problemType(kind), title: PROBLEMS[kind], status, detail, ...extra };
}
