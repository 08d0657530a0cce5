/**
 * `warmpool gateway`: the claim HTTP API for every registered pool (POST /v1/pools/{pool}/claims,
 * heartbeat, DELETE, GET /v1/pools/{pool}, GET /v1/pools), the single-pool aliases for --pool
 * (POST /v1/claims …, GET /v1/pool), /healthz, /readyz and, on --metrics-port, /metrics. Options
 * here, everything else in pkg/gateway.
 */
import type { CommandModule } from "yargs";
import { DEFAULT_TIMEOUTS, runGateway } from "../pkg/gateway/index.js";

const F = {
  pool: "pool",
  redisUrl: "redis-url",
  host: "host",
  port: "port",
  metricsPort: "metrics-port",
  tokens: "gateway-tokens",
  tokensFile: "tokens-file",
  lease: "default-lease-seconds",
  wait: "default-wait-ms",
  maxWait: "max-wait-ms",
  readyTimeout: "ready-timeout-ms",
  retryAfter: "retry-after-seconds",
  userIdPattern: "user-id-pattern",
  maxLease: "max-lease-seconds",
  perUser: "max-claims-per-user",
  perToken: "max-claims-per-token",
  maxWaiting: "max-waiting",
  headersTimeout: "headers-timeout-ms",
  requestTimeout: "request-timeout-ms",
  keepAlive: "keep-alive-timeout-ms",
  socketIdle: "socket-idle-timeout-ms",
} as const;

interface Args {
  [F.pool]?: string;
  [F.redisUrl]: string;
  [F.host]: string;
  [F.port]: number;
  [F.metricsPort]: number;
  [F.tokens]?: string;
  [F.tokensFile]?: string;
  [F.lease]: number;
  [F.wait]: number;
  [F.maxWait]: number;
  [F.readyTimeout]: number;
  [F.retryAfter]: number;
  [F.userIdPattern]?: string;
  [F.maxLease]: number;
  [F.perUser]: number;
  [F.perToken]: number;
  [F.maxWaiting]: number;
  [F.headersTimeout]: number;
  [F.requestTimeout]: number;
  [F.keepAlive]: number;
  [F.socketIdle]?: number;
}

export const gatewayCommand: CommandModule<object, Args> = {
  command: "gateway",
  describe: "serve the claim API: a warm task for a user, ready when the call returns",
  builder: (y) =>
    y
      .option(F.pool, {
        type: "string",
        describe:
          "default pool: /v1/claims… and /v1/pool answer for it (every registered pool is served under /v1/pools/{pool}/…)",
      })
      .option(F.redisUrl, {
        type: "string",
        default: "redis://127.0.0.1:6379",
        describe:
          "Redis URL, or redis+cluster://host:port[,host:port…] for a Redis Cluster (prefer WARMPOOL_REDIS_URL: argv is readable by every local user)",
      })
      .option(F.host, { type: "string", default: "127.0.0.1", describe: "address to listen on" })
      .option(F.port, { type: "number", default: 8080, describe: "TCP port (0 = a free one)" })
      .option(F.metricsPort, {
        type: "number",
        default: 9464,
        describe: "port of /metrics and /healthz, apart from the API (0 = a free one)",
      })
      .option(F.tokens, {
        type: "string",
        describe: "comma-separated bearer tokens (prefer the WARMPOOL_GATEWAY_TOKENS environment variable)",
      })
      .option(F.tokensFile, { type: "string", describe: "file with one bearer token per line" })
      .option(F.lease, { type: "number", default: 300, describe: "lease when a claim names none" })
      .option(F.wait, {
        type: "number",
        default: 30_000,
        describe: "wait for a task when a claim names none",
      })
      .option(F.maxWait, { type: "number", default: 300_000, describe: "largest waitMs a claim may ask" })
      .option(F.readyTimeout, {
        type: "number",
        default: 15_000,
        describe: "how long a taken warm task may take to report ready",
      })
      .option(F.retryAfter, { type: "number", default: 2, describe: "Retry-After of a 503" })
      .option(F.userIdPattern, {
        type: "string",
        describe: "regular expression user ids must match (default ^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$)",
      })
      .option(F.maxLease, {
        type: "number",
        default: 3_600,
        describe:
          "longest lease a claim or heartbeat may ask (the desired state's leaseSeconds is capped too)",
      })
      .option(F.perUser, {
        type: "number",
        default: 10,
        describe: "live claims one user may hold (429 past it; 0 = no limit)",
      })
      .option(F.perToken, {
        type: "number",
        default: 1_000,
        describe: "live claims one bearer token may hold (429 past it; 0 = no limit)",
      })
      .option(F.maxWaiting, {
        type: "number",
        default: 1_000,
        describe: "claims the waiting queue may hold (503 + Retry-After past it; 0 = unbounded)",
      })
      .option(F.headersTimeout, {
        type: "number",
        default: DEFAULT_TIMEOUTS.headersTimeoutMs,
        describe: "a request's headers must arrive within this (408 and closed otherwise)",
      })
      .option(F.requestTimeout, {
        type: "number",
        default: DEFAULT_TIMEOUTS.requestTimeoutMs,
        describe: "a whole request (headers and body) must arrive within this; waiting for a task is not cut",
      })
      .option(F.keepAlive, {
        type: "number",
        default: DEFAULT_TIMEOUTS.keepAliveTimeoutMs,
        describe:
          "idle keep-alive connections close after this; keep it above the load balancer's idle timeout",
      })
      .option(F.socketIdle, {
        type: "number",
        describe:
          "a silent socket with a request in progress is closed after this (default max(max-wait-ms, ready-timeout-ms) + 30 s)",
      })
      .example(
        "WARMPOOL_GATEWAY_TOKENS=$(openssl rand -hex 24) $0 gateway --pool dev --port 8080",
        "serve the claim API",
      )
      .example(
        'curl -H "Authorization: Bearer $TOKEN" -d \'{"userId":"alice"}\' localhost:8080/v1/claims',
        "claim a task from the default pool",
      )
      .example(
        'curl -H "Authorization: Bearer $TOKEN" -d \'{"userId":"alice"}\' localhost:8080/v1/pools/gpu-eu/claims',
        "claim a task from any registered pool",
      ),
  handler: async (a) => {
    const gw = await runGateway({
      ...(a[F.pool] !== undefined ? { pool: a[F.pool] } : {}),
      redisUrl: a[F.redisUrl],
      host: a[F.host],
      port: a[F.port],
      metricsPort: a[F.metricsPort],
      tokens: a[F.tokens],
      tokensFile: a[F.tokensFile],
      defaultLeaseSeconds: a[F.lease],
      defaultWaitMs: a[F.wait],
      maxWaitMs: a[F.maxWait],
      readyTimeoutMs: a[F.readyTimeout],
      retryAfterSeconds: a[F.retryAfter],
      userIdPattern: a[F.userIdPattern],
      maxLeaseSeconds: a[F.maxLease],
      maxClaimsPerUser: a[F.perUser],
      maxClaimsPerToken: a[F.perToken],
      maxWaiting: a[F.maxWaiting],
      timeouts: {
        headersTimeoutMs: a[F.headersTimeout],
        requestTimeoutMs: a[F.requestTimeout],
        keepAliveTimeoutMs: a[F.keepAlive],
        ...(a[F.socketIdle] !== undefined ? { socketIdleTimeoutMs: a[F.socketIdle] } : {}),
      },
    });
    console.log(gw.url);
    await new Promise<void>((resolve) => {
      process.once("SIGINT", resolve);
      process.once("SIGTERM", resolve);
    });
    await gw.close();
  },
};
