/**
 * `warmpool gateway`: a thin HTTP service over the claim library (DESIGN §2). It talks to Redis
 * only; bearer tokens guard the /v1 API; probes and metrics are open for the platform.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Redis } from "ioredis";
import type { Registry } from "prom-client";
import { InvalidClaimInput, type ClaimService } from "../claims/index.js";
import type { Logger } from "../log/index.js";
import { isTransientRedisError, redactSecrets } from "../redis/index.js";
import type { BearerTokens } from "./auth.js";
import { HttpError, sendHttpError, sendJson, sendProblem } from "./http-io.js";
import { PrimaryCheck } from "./readiness.js";
import { GatewayPools } from "./pools.js";
import { route, type RouteContext } from "./routes.js";
import {
  applySocketTimeout,
  resolveTimeouts,
  serverTimeoutOptions,
  type GatewayTimeouts,
} from "./timeouts.js";

export interface GatewayOptions {
  /** The default pool's service: the single-pool routes (`/v1/claims…`, `/v1/pool`) answer for it. */
  service?: ClaimService;
  /** Every pool the gateway serves (`/v1/pools/{pool}/…`); default: `service`'s pool alone. */
  pools?: GatewayPools;
  /** The command connection the services use (for /readyz and error classification). */
  redis: Redis;
  tokens: BearerTokens;
  registry?: Registry;
  logger?: Logger;
  retryAfterSeconds?: number;
  /** Slow-client defences (pkg/gateway/timeouts.ts); defaults when absent. */
  timeouts?: Partial<GatewayTimeouts>;
  /** The longest a claim may wait without a byte on the wire: max(maxWaitMs, readyTimeoutMs). */
  longestWaitMs?: number;
}

export interface RunningGateway {
  server: Server;
  url: string;
  timeouts: GatewayTimeouts;
  close(): Promise<void>;
}

/** The request handler, for embedding the API in another server. */
export function gatewayHandler(opts: GatewayOptions): (req: IncomingMessage, res: ServerResponse) => void {
  const pools = opts.pools ?? new GatewayPools(opts.service ? { defaultService: opts.service } : {});
  const ctx: RouteContext = { pools, redis: opts.redis, retryAfterSeconds: opts.retryAfterSeconds ?? 2 };
  const primary = new PrimaryCheck(opts.redis);
  // The token a keep-alive connection last proved, so its next requests skip the SHA-256 and the
  // constant-time comparisons (a few % of the gateway's CPU per claim). Only an exact repeat of a
  // header that was accepted on the same connection hits; anything else is checked in full, and a
  // connection never learns about a token it did not send itself.
  const proven = new WeakMap<object, { header: string; clientId: string }>();
  const identify = (req: IncomingMessage): string | undefined => {
    const header = req.headers.authorization;
    const last = proven.get(req.socket);
    if (last !== undefined && header === last.header) return last.clientId;
    const clientId = opts.tokens.identify(header);
    if (clientId !== undefined && header !== undefined) proven.set(req.socket, { header, clientId });
    else proven.delete(req.socket);
    return clientId;
  };
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = req.url ?? "/";
    const q = url.indexOf("?");
    const path = q < 0 ? url : url.slice(0, q);
    if (path === "/healthz") return sendJson(res, 200, { status: "ok" });
    if (path === "/readyz") return readyz(opts, pools, primary, res);
    if (path === "/metrics") return metrics(opts, pools, res);
    if (!path.startsWith("/v1/")) throw new HttpError(404, `no route ${path}`);
    const clientId = identify(req);
    if (clientId === undefined) {
      throw new HttpError(401, "Authorization: a valid bearer token is required", {
        "www-authenticate": 'Bearer realm="warmpool"',
      });
    }
    if (await route(ctx, req, res, path, clientId)) return;
    throw new HttpError(404, `no route ${path}`);
  };
  return (req, res) => {
    handle(req, res).catch((e: unknown) => {
      if (res.headersSent) return void res.destroy();
      if (e instanceof HttpError) return sendHttpError(res, e);
      if (e instanceof InvalidClaimInput) {
        return sendProblem(res, 400, "invalid-input", e.message, { field: e.field });
      }
      // A lost connection, a demoted primary (READONLY), a failover in progress: the claim did not
      // happen and a retry will work once Redis is back — 503 + Retry-After, never 500.
      if (opts.redis.status !== "ready" || isTransientChain(e)) {
        const detail = `redis unavailable: ${redactSecrets(messageOf(e))}`;
        return sendProblem(res, 503, "redis-unavailable", detail, {}, { "retry-after": "1" });
      }
      opts.logger?.error({ err: redactSecrets(describe(e)), path: req.url }, "gateway request failed");
      sendProblem(res, 500, "internal", "internal error");
    });
  };
}

/** The error or any of its causes is a transient Redis failure. */
function isTransientChain(e: unknown): boolean {
  for (let c: unknown = e, depth = 0; c instanceof Error && depth < 8; c = c.cause, depth++) {
    if (isTransientRedisError(c)) return true;
  }
  return false;
}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** The error with its cause chain, for a log line (stack of the outermost only). */
function describe(e: unknown): string {
  const parts: string[] = [e instanceof Error ? (e.stack ?? e.message) : String(e)];
  for (let c = e instanceof Error ? e.cause : undefined, d = 0; c !== undefined && d < 8; d++) {
    parts.push(`caused by: ${messageOf(c)}`);
    c = c instanceof Error ? c.cause : undefined;
  }
  return parts.join("\n");
}

async function readyz(
  opts: GatewayOptions,
  pools: GatewayPools,
  primary: PrimaryCheck,
  res: ServerResponse,
): Promise<void> {
  const notReady = (why: string): void =>
    sendProblem(
      res,
      503,
      "not-ready",
      `redis unavailable: ${redactSecrets(why)}`,
      {},
      { "retry-after": "1" },
    );
  if (opts.redis.status !== "ready") return notReady(`connection ${opts.redis.status}`);
  if (!pools.listening) return notReady("claim notice subscription is down");
  const p = await primary.state();
  if (!p.ok) return notReady(p.reason);
  sendJson(res, 200, { status: "ready" });
}

async function metrics(opts: GatewayOptions, pools: GatewayPools, res: ServerResponse): Promise<void> {
  if (!opts.registry) throw new HttpError(404, "metrics are not enabled");
  await pools.refreshGauges();
  const text = await opts.registry.metrics();
  res.writeHead(200, { "content-type": opts.registry.contentType });
  res.end(text);
}

/** Listens on host:port (port 0 = any free port) and answers until close(). */
export async function startGateway(
  opts: GatewayOptions & { host?: string; port?: number },
): Promise<RunningGateway> {
  const timeouts = resolveTimeouts(opts.timeouts ?? {}, opts.longestWaitMs ?? 300_000);
  const server = createServer(serverTimeoutOptions(timeouts), gatewayHandler(opts));
  applySocketTimeout(server, timeouts);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, opts.host ?? "127.0.0.1", () => resolve());
  });
  const addr = server.address() as AddressInfo;
  const host = addr.family === "IPv6" ? `[${addr.address}]` : addr.address;
  return {
    server,
    url: `http://${host}:${addr.port}`,
    timeouts,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
