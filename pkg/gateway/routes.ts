/**
 * The gateway's JSON API over a ClaimService, as api/openapi.json describes it. Every answer that
 * is not a success is a problem (application/problem+json) saying what went wrong, naming the
 * field for bad input.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { ClaimService } from "../claims/index.js";
import type { ReadyClaim } from "../claims/types.js";
import { ClaimRequestSchema, HeartbeatRequestSchema } from "../api/index.js";
import { HttpError, readJsonObject, rejectUnknownFields, sendJson, sendProblem } from "./http-io.js";

const CLAIM_FIELDS = Object.keys(ClaimRequestSchema.shape);
const HEARTBEAT_FIELDS = Object.keys(HeartbeatRequestSchema.shape);
const CLAIM_PATH = /^\/v1\/claims\/([^/]+)(\/heartbeat)?$/;

export interface RouteContext {
  service: ClaimService;
  /** Seconds a client should wait before retrying a claim that timed out. */
  retryAfterSeconds: number;
}

function claimBody(c: ReadyClaim): Record<string, unknown> {
  return {
    claimId: c.claimId,
    taskId: c.taskId,
    endpoint: c.endpoint,
    token: c.token,
    leaseExpiresAt: new Date(c.leaseExpiresAtMs).toISOString(),
    warm: c.warm,
  };
}

/**
 * POST /v1/claims. A caller that goes away before the answer (its connection closes while the
 * claim waits, or before the answer is fully written) loses the claim: a queued claim leaves the
 * queue, a taken task drains — nobody would ever learn its endpoint, so it must not sit `ready`
 * for its whole lease.
 */
export async function postClaim(
  ctx: RouteContext,
  req: IncomingMessage,
  res: ServerResponse,
  clientId: string,
): Promise<void> {
  const body = await readJsonObject(req);
  rejectUnknownFields(body, CLAIM_FIELDS);
  const idem = req.headers["idempotency-key"];
  if (Array.isArray(idem)) throw new HttpError(400, "Idempotency-Key: must be given once");
  const gone = new AbortController();
  let answered: { claimId: string } | undefined;
  const onClose = (): void => {
    if (res.writableFinished) return;
    gone.abort();
    // The claim was ready but its answer never reached the caller.
    if (answered) void ctx.service.abandon(answered.claimId).catch(() => undefined);
  };
  res.once("close", onClose);
  if (res.destroyed) return; // gone while its body was read: no claim at all
  const r = await (
    await ctx.service.begin({
      userId: body.userId as string,
      ...(body.leaseSeconds !== undefined ? { leaseSeconds: body.leaseSeconds as number } : {}),
      ...(body.waitMs !== undefined ? { waitMs: body.waitMs as number } : {}),
      ...(idem !== undefined ? { idempotencyKey: idem } : {}),
      clientId,
      signal: gone.signal,
    })
  ).result;
  if (r.outcome === "ready" && !r.replayed) {
    // A replay's claim belongs to the call that made it (which may have answered): never released here.
    if (gone.signal.aborted) {
      await ctx.service.abandon(r.claim.claimId);
      return;
    }
    answered = { claimId: r.claim.claimId };
  }
  switch (r.outcome) {
    case "rejected":
      if (r.quota === "waiting")
        return sendProblem(
          res,
          503,
          "no-task-ready",
          `no task ready: ${r.reason}`,
          { quota: r.quota },
          { "retry-after": String(ctx.retryAfterSeconds) },
        );
      return sendProblem(
        res,
        429,
        "quota-exceeded",
        `quota exceeded: ${r.reason}`,
        { quota: r.quota, limit: r.limit },
        { "retry-after": String(ctx.retryAfterSeconds) },
      );
    case "ready":
      // A replay answers as the first call did, marked so clients and logs can tell.
      return sendJson(res, 201, claimBody(r.claim), r.replayed ? { "idempotent-replayed": "true" } : {});
    case "timeout":
      return sendProblem(
        res,
        503,
        "no-task-ready",
        `no task ready in time: ${r.reason}`,
        { claimId: r.claimId },
        { "retry-after": String(ctx.retryAfterSeconds) },
      );
    case "failed":
      return sendProblem(res, 502, "session-failed", `the task could not start the session: ${r.reason}`, {
        claimId: r.claimId,
      });
    case "conflict":
      return sendProblem(res, 409, "idempotency-conflict", `Idempotency-Key: ${r.reason}`, {
        field: "Idempotency-Key",
      });
    case "ended":
      if (!r.replayed) {
        // The task went away (or its session ended) before it was ready: nothing the caller did;
        // a new claim gets another task.
        return sendProblem(
          res,
          503,
          "no-task-ready",
          `the task went away before the session was ready (claim ${r.state}); retry`,
          { claimId: r.claimId, state: r.state },
          { "retry-after": String(ctx.retryAfterSeconds) },
        );
      }
      return sendProblem(
        res,
        410,
        "claim-ended",
        `the claim for this Idempotency-Key has ended (${r.state})`,
        {
          claimId: r.claimId,
          state: r.state,
        },
      );
  }
}

export async function claimById(
  ctx: RouteContext,
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
): Promise<boolean> {
  const m = CLAIM_PATH.exec(path);
  if (!m) return false;
  let claimId: string;
  try {
    claimId = decodeURIComponent(m[1] ?? "");
  } catch {
    sendProblem(res, 400, "invalid-input", "claimId: malformed percent-encoding in the path");
    return true;
  }
  if (m[2] && req.method === "POST") {
    const body = await readJsonObject(req);
    rejectUnknownFields(body, HEARTBEAT_FIELDS);
    const r = await ctx.service.heartbeat(claimId, body.leaseSeconds as number | undefined);
    switch (r.outcome) {
      case "renewed":
        sendJson(res, 200, { claimId, leaseExpiresAt: new Date(r.leaseExpiresAtMs).toISOString() });
        break;
      case "unknown":
        sendProblem(res, 404, "not-found", `claimId: no claim ${claimId}`, { field: "claimId" });
        break;
      case "expired":
        sendProblem(res, 410, "claim-ended", "the lease had run out; the claim is expired", {
          claimId,
          state: "expired",
        });
        break;
      case "ended":
        sendProblem(res, 410, "claim-ended", `the claim has ended (${r.state})`, { claimId, state: r.state });
        break;
      case "waiting":
        sendProblem(res, 409, "claim-waiting", "the claim is still waiting for a task; nothing to renew", {
          claimId,
        });
        break;
    }
    return true;
  }
  if (!m[2] && req.method === "DELETE") {
    const r = await ctx.service.release(claimId);
    if (r.outcome === "unknown")
      sendProblem(res, 404, "not-found", `claimId: no claim ${claimId}`, { field: "claimId" });
    else if (r.outcome === "released") sendJson(res, 200, { claimId, state: "released" });
    else sendJson(res, 200, { claimId, state: r.state });
    return true;
  }
  throw new HttpError(
    405,
    `${req.method} is not allowed on ${m[2] ? "heartbeat (use POST)" : "a claim (use DELETE)"}`,
  );
}
