/**
 * Builds a gateway process from flags: Redis connections (fail fast when Redis is down, so a claim
 * gets a clear 503 instead of hanging), the claim service, metrics and the HTTP server.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Redis } from "ioredis";
import { Registry } from "prom-client";
import { ClaimService, DEFAULT_LIMITS, userIdPattern } from "../claims/index.js";
import { createLogger } from "../log/index.js";
import { createMetrics } from "../metrics/index.js";
import { createRedis, redactSecrets, redactUrl } from "../redis/index.js";
import { loadTokens } from "./auth.js";
import { PoolRegistry } from "../pools/index.js";
import { startGateway, type RunningGateway } from "./gateway.js";
import { GatewayPools } from "./pools.js";
import type { GatewayTimeouts } from "./timeouts.js";

export interface GatewayConfig {
  /**
   * The default pool: the single-pool routes (`/v1/claims…`, `/v1/pool`) answer for it. Every pool
   * of the registry (`wp:pools`) is served under `/v1/pools/{pool}/…` as well, with the same limits.
   * Absent: only the `/v1/pools/{pool}/…` routes answer.
   */
  pool?: string;
  /** How long the gateway trusts a registry entry, ms (default 2,000). */
  registryCacheMs?: number;
  redisUrl: string;
  host: string;
  port: number;
  /**
   * Port of `/metrics` (and `/healthz`), apart from the API like every warmpool process's
   * (0 = a free one). Absent: `/metrics` is served on the API port (embedding, tests).
   */
  metricsPort?: number;
  tokens?: string;
  tokensFile?: string;
  defaultLeaseSeconds: number;
  defaultWaitMs: number;
  maxWaitMs: number;
  readyTimeoutMs: number;
  retryAfterSeconds: number;
  userIdPattern?: string;
  /** Longest lease a claim (or a heartbeat, or the desired state) may set; default 86,400 s. */
  maxLeaseSeconds?: number;
  /** Live claims per user / per bearer token, and the waiting-queue bound; absent or 0 = none. */
  maxClaimsPerUser?: number;
  maxClaimsPerToken?: number;
  maxWaiting?: number;
  /** Slow-client defences; absent fields take pkg/gateway/timeouts.ts's defaults. */
  timeouts?: Partial<GatewayTimeouts>;
}

/** `runGateway`, with every Redis URL in its errors redacted (they may carry the AUTH password). */
export async function runGateway(
  cfg: GatewayConfig,
): Promise<RunningGateway & { service?: ClaimService; pools: GatewayPools; metricsUrl?: string }> {
  try {
    return await startFromConfig(cfg);
  } catch (e) {
    throw redactedError(e);
  }
}

/** A copy of the error whose message and causes' messages have no Redis password in them. */
function redactedError(e: unknown): Error {
  if (!(e instanceof Error)) return new Error(redactSecrets(String(e)));
  const cause = e.cause === undefined ? undefined : redactedError(e.cause);
  const out = new Error(redactSecrets(e.message), cause === undefined ? undefined : { cause });
  out.name = e.name;
  if (e.stack) out.stack = redactSecrets(e.stack);
  return out;
}

async function startFromConfig(
  cfg: GatewayConfig,
): Promise<RunningGateway & { service?: ClaimService; pools: GatewayPools; metricsUrl?: string }> {
  const logger = createLogger({
    bindings: { component: "gateway", ...(cfg.pool !== undefined ? { pool: cfg.pool } : {}) },
  });
  const tokens = loadTokens({ env: cfg.tokens, file: cfg.tokensFile });
  const maxLeaseSeconds = cfg.maxLeaseSeconds ?? DEFAULT_LIMITS.maxLeaseSeconds;
  const problems = configProblems(cfg, maxLeaseSeconds);
  if (problems.length) throw new Error(`gateway options: ${problems.join("; ")}`);
  // pkg/redis's policy: re-dial on READONLY/UNBLOCKED; the URL may name the gateway's ACL user.
  // A redis+cluster:// URL gives a Redis Cluster client (pkg/redis/connect.ts).
  const redis = createRedis(cfg.redisUrl, {
    lazyConnect: true,
    connectTimeoutMs: 2_000,
    autoPipelining: true,
  });
  const subscriber = createRedis(cfg.redisUrl, {
    use: "subscriber",
    lazyConnect: true,
    connectTimeoutMs: 2_000,
  });
  logOutages(redis, "redis connection", logger);
  logOutages(subscriber, "redis subscriber", logger);
  await Promise.all([redis.connect(), subscriber.connect()]).catch((e: unknown) => {
    redis.disconnect();
    subscriber.disconnect();
    throw new Error(`connecting to redis at ${redactUrl(cfg.redisUrl)}`, { cause: e });
  });
  const registry = new Registry();
  const metrics = createMetrics(registry);
  const serviceOf = async (pool: string): Promise<ClaimService> => {
    const s = new ClaimService({
      pool,
      redis,
      subscriber,
      metrics,
      readyTimeoutMs: cfg.readyTimeoutMs,
      limits: {
        defaultLeaseSeconds: cfg.defaultLeaseSeconds,
        defaultWaitMs: cfg.defaultWaitMs,
        maxWaitMs: cfg.maxWaitMs,
        maxLeaseSeconds,
        userIdPattern: userIdPattern(cfg.userIdPattern),
      },
      quotas: {
        perUser: cfg.maxClaimsPerUser ?? 0,
        perClient: cfg.maxClaimsPerToken ?? 0,
        maxWaiting: cfg.maxWaiting ?? 0,
      },
    });
    await s.start();
    return s;
  };
  const service = cfg.pool === undefined ? undefined : await serviceOf(cfg.pool);
  const pools = new GatewayPools({
    ...(service ? { defaultService: service } : {}),
    registry: new PoolRegistry(redis),
    create: serviceOf,
    subscriber,
    ...(cfg.registryCacheMs !== undefined ? { cacheMs: cfg.registryCacheMs } : {}),
  });
  const ops =
    cfg.metricsPort === undefined
      ? undefined
      : await serveMetrics(registry, pools, cfg.host, cfg.metricsPort);
  const gw = await startGateway({
    ...(service ? { service } : {}),
    pools,
    redis,
    tokens,
    ...(ops ? {} : { registry }),
    logger,
    host: cfg.host,
    port: cfg.port,
    retryAfterSeconds: cfg.retryAfterSeconds,
    ...(cfg.timeouts ? { timeouts: cfg.timeouts } : {}),
    longestWaitMs: Math.max(cfg.maxWaitMs, cfg.readyTimeoutMs),
  }).catch(async (e: unknown) => {
    await ops?.close();
    await pools.close();
    await service?.close();
    redis.disconnect();
    subscriber.disconnect();
    throw e;
  });
  logger.info(
    {
      url: gw.url,
      metrics: ops?.url,
      tokens: tokens.size,
      redis: redactUrl(cfg.redisUrl),
      timeouts: gw.timeouts,
      pool: cfg.pool ?? null,
      quotas: {
        perUser: cfg.maxClaimsPerUser ?? 0,
        perClient: cfg.maxClaimsPerToken ?? 0,
        maxWaiting: cfg.maxWaiting ?? 0,
      },
      maxLeaseSeconds,
    },
    "gateway listening",
  );
  return {
    ...gw,
    ...(service ? { service } : {}),
    pools,
    ...(ops ? { metricsUrl: `${ops.url}/metrics` } : {}),
    async close() {
      await gw.close();
      await ops?.close();
      await pools.close();
      await service?.close();
      redis.disconnect();
      subscriber.disconnect();
    },
  };
}

/**
 * Every ioredis connection needs an 'error' listener (else "Unhandled error event"). It knows
 * whether the connection is in an outage, so a retry loop against a dead server logs one line
 * when the outage starts and one when the connection is ready again, not one per attempt.
 */
function logOutages(conn: Redis, what: string, logger: ReturnType<typeof createLogger>): void {
  let down = false;
  conn.on("error", (e: Error) => {
    if (down) return;
    down = true;
    logger.warn({ err: redactSecrets(e.message) }, `${what} error; retrying (logged once per outage)`);
  });
  conn.on("ready", () => {
    if (down) logger.info(`${what} ready again`);
    down = false;
  });
}

/** Every problem with the limits at once, each naming its option and rule. */
function configProblems(cfg: GatewayConfig, maxLeaseSeconds: number): string[] {
  const p: string[] = [];
  const nonNegInt = (name: string, v: number | undefined): void => {
    if (v !== undefined && (!Number.isInteger(v) || v < 0))
      p.push(`${name}: must be an integer ≥ 0 (0 = no limit)`);
  };
  nonNegInt("maxClaimsPerUser", cfg.maxClaimsPerUser);
  nonNegInt("maxClaimsPerToken", cfg.maxClaimsPerToken);
  nonNegInt("maxWaiting", cfg.maxWaiting);
  if (!Number.isInteger(maxLeaseSeconds) || maxLeaseSeconds < DEFAULT_LIMITS.minLeaseSeconds)
    p.push(`maxLeaseSeconds: must be an integer ≥ ${DEFAULT_LIMITS.minLeaseSeconds}`);
  else if (cfg.defaultLeaseSeconds > maxLeaseSeconds)
    p.push(`defaultLeaseSeconds: must not exceed maxLeaseSeconds (${maxLeaseSeconds})`);
  return p;
}

/** The metrics port: `/metrics` (gauges refreshed first) and `/healthz`, nothing else. */
async function serveMetrics(
  registry: Registry,
  pools: GatewayPools,
  host: string,
  port: number,
): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    void (async () => {
      if (path === "/metrics" && req.method === "GET") {
        await pools.refreshGauges();
        const text = await registry.metrics();
        res.writeHead(200, { "content-type": registry.contentType });
        return res.end(text);
      }
      if (path === "/healthz") {
        res.writeHead(200, { "content-type": "application/json" });
        return res.end('{"status":"ok"}');
      }
      res.writeHead(404, { "content-type": "text/plain" });
      res.end("not found: this port serves /metrics and /healthz\n");
    })().catch(() => res.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve());
  });
  const addr = server.address() as AddressInfo;
  const h = addr.family === "IPv6" ? `[${addr.address}]` : addr.address;
  return {
    url: `http://${h}:${addr.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
