/**
 * The gateway's OpenAPI 3.1 document, generated from the zod schemas (schemas.ts, problem.ts).
 * Committed as api/openapi.json; hack/checks/api-contract.sh fails when the two drift.
 */
import { z } from "zod";
import { PROBLEM_CONTENT_TYPE, ProblemSchema } from "./problem.js";
import {
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
} from "./schemas.js";

const NAMED = {
  Claim: ClaimSchema,
  ClaimRequest: ClaimRequestSchema,
  ClaimState: ClaimStateSchema,
  ClaimStatus: ClaimStatusSchema,
  Health: HealthSchema,
  Heartbeat: HeartbeatResponseSchema,
  HeartbeatRequest: HeartbeatRequestSchema,
  PoolList: PoolListSchema,
  PoolSummary: PoolSummarySchema,
  Problem: ProblemSchema,
  Ready: ReadySchema,
  Release: ReleaseResponseSchema,
} as const;

type Named = keyof typeof NAMED;

/** components.schemas: each named schema, references between them as `#/components/schemas/…`. */
function componentSchemas(): Record<string, unknown> {
  const registry = z.registry<{ id: string }>();
  for (const [id, schema] of Object.entries(NAMED)) registry.add(schema, { id });
  const out = z.toJSONSchema(registry, {
    target: "draft-2020-12",
    io: "output",
    uri: (id) => `#/components/schemas/${id}`,
  }).schemas;
  const schemas: Record<string, unknown> = {};
  for (const id of Object.keys(out).sort()) {
    const { $schema: _schema, $id: _id, ...rest } = out[id] as Record<string, unknown>;
    schemas[id] = rest;
  }
  return schemas;
}

const ref = (name: Named) => ({ $ref: `#/components/schemas/${name}` });
const json = (name: Named) => ({ content: { "application/json": { schema: ref(name) } } });
const problemResponse = (description: string, headers?: Record<string, unknown>) => ({
  description,
  ...(headers ? { headers } : {}),
  content: { [PROBLEM_CONTENT_TYPE]: { schema: ref("Problem") } },
});
const retryAfter = {
  "Retry-After": { description: "seconds to wait before retrying", schema: { type: "integer", minimum: 0 } },
};
const claimIdParam = {
  name: "claimId",
  in: "path",
  required: true,
  schema: { type: "string", pattern: "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$" },
};
const poolParam = {
  name: "pool",
  in: "path",
  required: true,
  description: "a pool of the registry (`warmpool ctl pool list`) or the gateway's default pool",
  schema: { type: "string", pattern: "^[a-z0-9][a-z0-9-]{0,62}$", maxLength: 36 },
};
const common = {
  "400": problemResponse("bad input; `field` names it"),
  "401": problemResponse("no valid bearer token", {
    "WWW-Authenticate": { schema: { type: "string" } },
  }),
  "405": problemResponse("method not allowed on this path"),
  "408": { description: "headers or body sent too slowly: the connection is cut (no body)" },
  "413": problemResponse("body over 16 KiB"),
  "500": problemResponse("internal error"),
};

const unknownPool = "no such pool (`field`: `pool`, with a did-you-mean), or ";

/**
 * The claim routes of one pool under `base`: `/v1` (the single-pool aliases, answering for the
 * default pool) or `/v1/pools/{pool}` (any pool); `suffix` keeps the operationIds apart.
 */
function poolRoutes(
  base: string,
  suffix: string,
  params: object[],
  which: string,
): Record<string, Record<string, unknown>> {
  const inPool = params.length > 0;
  const notFound = (what: string) => problemResponse(inPool ? `${unknownPool}${what}` : what);
  return {
    [`${base}/claims`]: {
      post: {
        operationId: `claim${suffix}`,
        summary: `claim a warm task of ${which} for a user; answers when the session is ready`,
        parameters: [
          ...params,
          {
            name: "Idempotency-Key",
            in: "header",
            required: false,
            description: "same key ⇒ same claim for 24 h (1-128 printable ASCII, no spaces)",
            schema: { type: "string", pattern: "^[\\x21-\\x7e]{1,128}$" },
          },
        ],
        requestBody: { required: true, ...json("ClaimRequest") },
        responses: {
          "201": {
            description: "the session is ready",
            headers: {
              "Idempotent-Replayed": {
                description: "`true` when an Idempotency-Key replay answered",
                schema: { type: "string", enum: ["true"] },
              },
            },
            ...json("Claim"),
          },
          ...common,
          "404": notFound(inPool ? "no default pool" : "the gateway has no default pool"),
          "409": problemResponse(
            inPool
              ? "the Idempotency-Key was used for another user, or the pool is being deleted (`pool-deleting`)"
              : "the Idempotency-Key was used for another user",
          ),
          "429": problemResponse("over the per-user or per-token quota of live claims", retryAfter),
          "410": problemResponse("the claim of this Idempotency-Key has ended"),
          "502": problemResponse("the task could not start the session"),
          "503": problemResponse(
            "no task ready within waitMs, the waiting queue full, or Redis unavailable: retry",
            retryAfter,
          ),
        },
      },
    },
    [`${base}/claims/{claimId}/heartbeat`]: {
      post: {
        operationId: `heartbeat${suffix}`,
        summary: "renew the claim's lease",
        parameters: [...params, claimIdParam],
        requestBody: { required: false, ...json("HeartbeatRequest") },
        responses: {
          "200": { description: "renewed", ...json("Heartbeat") },
          ...common,
          "404": notFound("no such claim"),
          "409": problemResponse("the claim is still waiting for a task"),
          "410": problemResponse("the claim has ended or expired"),
          "503": problemResponse("Redis unavailable", retryAfter),
        },
      },
    },
    [`${base}/claims/{claimId}`]: {
      get: {
        operationId: `claimStatus${suffix}`,
        summary: "where the claim stands: state, task, lease; never its endpoint or token",
        parameters: [...params, claimIdParam],
        responses: {
          "200": { description: "the claim", ...json("ClaimStatus") },
          ...common,
          "404": notFound("no such claim (never made, or ended longer ago than its record is kept)"),
          "503": problemResponse("Redis unavailable", retryAfter),
        },
      },
      delete: {
        operationId: `release${suffix}`,
        summary: "release the claim (idempotent); its task is stopped, never reused",
        parameters: [...params, claimIdParam],
        responses: {
          "200": { description: "the claim's final state", ...json("Release") },
          ...common,
          "404": notFound("no such claim"),
          "503": problemResponse("Redis unavailable", retryAfter),
        },
      },
    },
    [inPool ? base : `${base}/pool`]: {
      get: {
        operationId: inPool ? "poolSummaryInPool" : "poolSummary",
        summary: `task counts by state and claims waiting, of ${which}`,
        ...(inPool ? { parameters: params } : {}),
        responses: {
          "200": { description: "the pool now", ...json("PoolSummary") },
          ...common,
          "404": notFound(inPool ? "no such pool" : "the gateway has no default pool"),
          "503": problemResponse("Redis unavailable", retryAfter),
        },
      },
    },
  };
}

export function openApiDocument(version: string): Record<string, unknown> {
  return {
    openapi: "3.1.0",
    info: {
      title: "ecs-warmpool gateway",
      version,
      description:
        "Claims a pre-warmed ECS task for a user; the claim answers once the session is ready. " +
        "Every error is RFC 9457 application/problem+json. See docs/claims.md and docs/client.md.",
    },
    jsonSchemaDialect: "https://spec.openapis.org/oas/3.1/dialect/base",
    security: [{ bearer: [] }],
    paths: {
      ...poolRoutes("/v1", "", [], "the default pool (`--pool`)"),
      "/v1/pools": {
        get: {
          operationId: "listPools",
          summary: "every pool this gateway serves: its default and the registered ones",
          responses: {
            "200": { description: "the pools", ...json("PoolList") },
            ...common,
            "503": problemResponse("Redis unavailable", retryAfter),
          },
        },
      },
      ...poolRoutes("/v1/pools/{pool}", "InPool", [poolParam], "the pool named in the path"),
      "/healthz": {
        get: {
          operationId: "healthz",
          security: [],
          responses: { "200": { description: "the process answers", ...json("Health") } },
        },
      },
      "/readyz": {
        get: {
          operationId: "readyz",
          security: [],
          responses: {
            "200": { description: "Redis answers and claim notices are subscribed", ...json("Ready") },
            "503": problemResponse("not ready", retryAfter),
          },
        },
      },
    },
    components: {
      securitySchemes: { bearer: { type: "http", scheme: "bearer" } },
      schemas: componentSchemas(),
    },
  };
}
