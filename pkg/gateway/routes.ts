/**
 * The gateway's JSON API over the ClaimServices of the pools it serves, as api/openapi.json
 * describes it: `/v1/pools/{pool}/…` for any pool, and the single-pool routes (`/v1/claims…`,
 * `/v1/pool`) as aliases of the same handlers for the default pool (`--pool`). Every answer that
 * is not a success is a problem (application/problem+json) saying what went wrong, naming the
 * field for bad input.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Redis } from "ioredis";
import { ClaimKeys, type ClaimService } from "../claims/index.js";
import type { ReadyClaim } from "../claims/types.js";
import { ClaimRequestSchema, HeartbeatRequestSchema } from "../api/index.js";
import { HttpError, readJsonObject, rejectUnknownFields, sendJson, sendProblem } from "./http-io.js";
import { readClaimStatus } from "./claim-status.js";
import type { GatewayPools } from "./pools.js";

const CLAIM_FIELDS = Object.keys(ClaimRequestSchema.shape);
const HEARTBEAT_FIELDS = Object.keys(HeartbeatRequestSchema.shape);
/** `/claims`, `/claims/{id}`, `/claims/{id}/heartbeat` or `/pool` after the pool's prefix. */
const ALIAS_PATH = /^\/v1(?:\/(pool)|\/claims(?:\/([^/]+)(\/heartbeat)?)?)$/;
const POOL_PATH = /^\/v1\/pools\/([^/]+)(\/claims(?:\/([^/]+)(\/heartbeat)?)?)?$/;

export interface RouteContext {
  pools: GatewayPools;
  /** The services' command connection (claim status reads). */
  redis: Redis;
  /** Seconds a client should wait before retrying a claim that timed out. */
  retryAfterSeconds: number;
}

/** One API request: which pool, which resource. */
interface Target {
  /** Undefined: the default pool (an alias route). */
  pool?: string;
  resource: "claims" | "claim" | "heartbeat" | "summary";
  claimId?: string;
  /** The path as the client spelled its template, for 405 messages. */
  label: string;
}

/** Parses an API path; undefined when it is none of the gateway's routes. */
function parseTarget(path: string): Target | undefined {
  const a = ALIAS_PATH.exec(path);
  if (a) {
    if (a[1]) return { resource: "summary", label: "/v1/pool" };
    if (a[2] === undefined) return { resource: "claims", label: "/v1/claims" };
    return a[3]
      ? { resource: "heartbeat", claimId: a[2], label: "heartbeat" }
      : { resource: "claim", claimId: a[2], label: "a claim" };
  }
  const p = POOL_PATH.exec(path);
  if (!p) return undefined;
  const pool = decodeSegment(p[1] ?? "", "pool");
  if (p[2] === undefined) return { pool, resource: "summary", label: "/v1/pools/{pool}" };
  if (p[3] === undefined) return { pool, resource: "claims", label: "/v1/pools/{pool}/claims" };
  return p[4]
    ? { pool, resource: "heartbeat", claimId: p[3], label: "heartbeat" }
    : { pool, resource: "claim", claimId: p[3], label: "a claim" };
}

function decodeSegment(raw: string, field: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new HttpError(400, `${field}: malformed percent-encoding in the path`, {}, { field });
  }
}

const METHODS: Record<Target["resource"], readonly string[]> = {
  claims: ["POST"],
  claim: ["GET", "DELETE"],
  heartbeat: ["POST"],
  summary: ["GET"],
};

/**
 * Answers an authenticated `/v1/` request; false when the path is no route. The method is checked
 * before the pool is looked up, so a wrong method costs no Redis work.
 */
export async function route(
  ctx: RouteContext,
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
  clientId: string,
): Promise<boolean> {
  if (path === "/v1/pools") {
    if (req.method !== "GET") throw new HttpError(405, `${req.method} is not allowed on /v1/pools (use GET)`);
    sendJson(res, 200, { pools: await ctx.pools.list() });
    return true;
  }
  const t = parseTarget(path);
  if (!t) return false;
  const methods = METHODS[t.resource];
  if (!methods.includes(req.method ?? "")) {
    throw new HttpError(405, `${req.method} is not allowed on ${t.label} (use ${methods.join(" or ")})`);
  }
  const service = await serviceOf(ctx, t);
  switch (t.resource) {
    case "claims":
      await postClaim(ctx, service, req, res, clientId);
      break;
    case "summary":
      sendJson(res, 200, await service.summary());
      break;
    case "heartbeat":
      await heartbeat(service, req, res, decodeSegment(t.claimId!, "claimId"));
      break;
    case "claim": {
      const claimId = decodeSegment(t.claimId!, "claimId");
      if (req.method === "DELETE") await release(service, res, claimId);
      else await claimStatus(ctx, service, res, claimId);
      break;
    }
  }
  return true;
}

async function serviceOf(ctx: RouteContext, t: Target): Promise<ClaimService> {
  if (t.pool !== undefined) return ctx.pools.resolve(t.pool, t.resource === "claims");
  const d = ctx.pools.defaultService;
  if (!d) {
    throw new HttpError(
      404,
      "this gateway has no default pool (--pool); address one as /v1/pools/{pool}/… (GET /v1/pools lists them)",
    );
  }
  return d;
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
async function postClaim(
  ctx: RouteContext,
  service: ClaimService,
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
    if (answered) void service.abandon(answered.claimId).catch(() => undefined);
  };
  res.once("close", onClose);
  if (res.destroyed) return; // gone while its body was read: no claim at all
  const r = await (
    await service.begin({
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
      await service.abandon(r.claim.claimId);
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

async function heartbeat(
  service: ClaimService,
  req: IncomingMessage,
  res: ServerResponse,
  claimId: string,
): Promise<void> {
  const body = await readJsonObject(req);
  rejectUnknownFields(body, HEARTBEAT_FIELDS);
  const r = await service.heartbeat(claimId, body.leaseSeconds as number | undefined);
  switch (r.outcome) {
    case "renewed":
      return sendJson(res, 200, { claimId, leaseExpiresAt: new Date(r.leaseExpiresAtMs).toISOString() });
    case "unknown":
      return sendProblem(res, 404, "not-found", `claimId: no claim ${claimId}`, { field: "claimId" });
    case "expired":
      return sendProblem(res, 410, "claim-ended", "the lease had run out; the claim is expired", {
        claimId,
        state: "expired",
      });
    case "ended":
      return sendProblem(res, 410, "claim-ended", `the claim has ended (${r.state})`, {
        claimId,
        state: r.state,
      });
    case "waiting":
      return sendProblem(
        res,
        409,
        "claim-waiting",
        "the claim is still waiting for a task; nothing to renew",
        {
          claimId,
        },
      );
  }
}

async function claimStatus(
  ctx: RouteContext,
  service: ClaimService,
  res: ServerResponse,
  claimId: string,
): Promise<void> {
  const s = await readClaimStatus(ctx.redis, new ClaimKeys(service.pool), claimId);
  if (!s) return sendProblem(res, 404, "not-found", `claimId: no claim ${claimId}`, { field: "claimId" });
  sendJson(res, 200, s);
}

async function release(service: ClaimService, res: ServerResponse, claimId: string): Promise<void> {
  const r = await service.release(claimId);
  if (r.outcome === "unknown")
    return sendProblem(res, 404, "not-found", `claimId: no claim ${claimId}`, { field: "claimId" });
  if (r.outcome === "released") return sendJson(res, 200, { claimId, state: "released" });
  sendJson(res, 200, { claimId, state: r.state });
}
