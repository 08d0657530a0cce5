/**
 * Builds a gateway process from flags: Redis connections (fail fast when Redis is down, so a claim
 * gets a clear 503 instead of hanging), the claim service, metrics and the HTTP server.
 */
import { Redis } from "ioredis";
import { Registry } from "prom-client";
import { ClaimService, userIdPattern } from "../claims/index.js";
import { createLogger } from "../log/index.js";
import { createMetrics } from "../metrics/index.js";
import { loadTokens } from "./auth.js";
import { startGateway, type RunningGateway } from "./gateway.js";

export interface GatewayConfig {
  pool: string;
  redisUrl: string;
  host: string;
  port: number;
  tokens?: string;
  tokensFile?: string;
  defaultLeaseSeconds: number;
  defaultWaitMs: number;
  maxWaitMs: number;
  readyTimeoutMs: number;
  retryAfterSeconds: number;
  userIdPattern?: string;
}

export async function runGateway(cfg: GatewayConfig): Promise<RunningGateway & { service: ClaimService }> {
  const logger = createLogger({ bindings: { component: "gateway", pool: cfg.pool } });
  const tokens = loadTokens({ env: cfg.tokens, file: cfg.tokensFile });
  const redisOpts = { enableOfflineQueue: false, maxRetriesPerRequest: 1, connectTimeout: 2_000 };
  const redis = new Redis(cfg.redisUrl, { ...redisOpts, lazyConnect: true, enableAutoPipelining: true });
  const subscriber = new Redis(cfg.redisUrl, { ...redisOpts, lazyConnect: true, enableOfflineQueue: true });
  logOutages(redis, "redis connection", logger);
  logOutages(subscriber, "redis subscriber", logger);
  await Promise.all([redis.connect(), subscriber.connect()]).catch((e: unknown) => {
    redis.disconnect();
    subscriber.disconnect();
    throw new Error(`connecting to redis at ${cfg.redisUrl}`, { cause: e });
  });
  const registry = new Registry();
  const metrics = createMetrics(registry);
  const service = new ClaimService({
    pool: cfg.pool,
    redis,
    subscriber,
    metrics,
    readyTimeoutMs: cfg.readyTimeoutMs,
    limits: {
      defaultLeaseSeconds: cfg.defaultLeaseSeconds,
      defaultWaitMs: cfg.defaultWaitMs,
      maxWaitMs: cfg.maxWaitMs,
      userIdPattern: userIdPattern(cfg.userIdPattern),
    },
  });
  await service.start();
  const gw = await startGateway({
    service,
    redis,
    tokens,
    registry,
    logger,
    host: cfg.host,
    port: cfg.port,
    retryAfterSeconds: cfg.retryAfterSeconds,
  });
  logger.info({ url: gw.url, tokens: tokens.size }, "gateway listening");
  return {
    ...gw,
    service,
    async close() {
      await gw.close();
      await service.close();
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
    logger.warn({ err: e.message }, `${what} error; retrying (logged once per outage)`);
  });
  conn.on("ready", () => {
    if (down) logger.info(`${what} ready again`);
    down = false;
  });
}
