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
import type { BearerTokens } from "./auth.js";
import { HttpError, sendJson } from "./http-io.js";
import { claimById, postClaim, type RouteContext } from "./routes.js";

export interface GatewayOptions {
  service: ClaimService;
  /** The command connection the service uses (for /readyz and error classification). */
  redis: Redis;
  tokens: BearerTokens;
  registry?: Registry;
  logger?: Logger;
  retryAfterSeconds?: number;
}

export interface RunningGateway {
  server: Server;
  url: string;
  close(): Promise<void>;
}

/** The request handler, for embedding the API in another server. */
export function gatewayHandler(opts: GatewayOptions): (req: IncomingMessage, res: ServerResponse) => void {
  const ctx: RouteContext = { service: opts.service, retryAfterSeconds: opts.retryAfterSeconds ?? 2 };
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = (req.url ?? "/").split("?")[0] ?? "/";
    if (path === "/healthz") return sendJson(res, 200, { status: "ok" });
    if (path === "/readyz") return readyz(opts, res);
    if (path === "/metrics") return metrics(opts, res);
    if (!path.startsWith("/v1/")) throw new HttpError(404, `no route ${path}`);
    if (!opts.tokens.accepts(req.headers.authorization)) {
      throw new HttpError(401, "Authorization: a valid bearer token is required", {
        "www-authenticate": 'Bearer realm="warmpool"',
      });
    }
    if (path === "/v1/claims") {
      if (req.method !== "POST")
        throw new HttpError(405, `${req.method} is not allowed on /v1/claims (use POST)`);
      return postClaim(ctx, req, res);
    }
    if (path === "/v1/pool") {
      if (req.method !== "GET")
        throw new HttpError(405, `${req.method} is not allowed on /v1/pool (use GET)`);
      return sendJson(res, 200, await opts.service.summary());
    }
    if (await claimById(ctx, req, res, path)) return;
    throw new HttpError(404, `no route ${path}`);
  };
  return (req, res) => {
    handle(req, res).catch((e: unknown) => {
      if (res.headersSent) return void res.destroy();
      if (e instanceof HttpError) return sendJson(res, e.status, { error: e.message, ...e.extra }, e.headers);
      if (e instanceof InvalidClaimInput) return sendJson(res, 400, { error: e.message, field: e.field });
      if (opts.redis.status !== "ready" || isConnectionError(e)) {
        return sendJson(
          res,
          503,
          { error: `redis unavailable: ${(e as Error).message}` },
          { "retry-after": "1" },
        );
      }
      opts.logger?.error({ err: e, path: req.url }, "gateway request failed");
      sendJson(res, 500, { error: "internal error" });
    });
  };
}

function isConnectionError(e: unknown): boolean {
  const msg = e instanceof Error ? e.message : String(e);
  return /ECONNREFUSED|ECONNRESET|Connection is closed|Stream isn't writeable|max retries|ETIMEDOUT/i.test(
    msg,
  );
}

async function readyz(opts: GatewayOptions, res: ServerResponse): Promise<void> {
  try {
    if (opts.redis.status !== "ready") throw new Error(`connection ${opts.redis.status}`);
    if (!opts.service.listening) throw new Error("claim notice subscription is down");
    await opts.redis.ping();
    sendJson(res, 200, { status: "ready" });
  } catch (e) {
    sendJson(
      res,
      503,
      { status: "not ready", error: `redis unavailable: ${(e as Error).message}` },
      { "retry-after": "1" },
    );
  }
}

async function metrics(opts: GatewayOptions, res: ServerResponse): Promise<void> {
  if (!opts.registry) throw new HttpError(404, "metrics are not enabled");
  await opts.service.refreshGauges().catch(() => undefined);
  const text = await opts.registry.metrics();
  res.writeHead(200, { "content-type": opts.registry.contentType });
  res.end(text);
}

/** Listens on host:port (port 0 = any free port) and answers until close(). */
export async function startGateway(
  opts: GatewayOptions & { host?: string; port?: number },
): Promise<RunningGateway> {
  const server = createServer(gatewayHandler(opts));
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 10_000;
  server.requestTimeout = 0; // claims may legitimately wait up to maxWaitMs
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, opts.host ?? "127.0.0.1", () => resolve());
  });
  const addr = server.address() as AddressInfo;
  const host = addr.family === "IPv6" ? `[${addr.address}]` : addr.address;
  return {
    server,
    url: `http://${host}:${addr.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
