/**
 * How every process opens its Redis connections: one factory per use, with the reconnect policy a
 * failover needs. A demoted primary answers writes with READONLY and cuts blocked commands with
 * UNBLOCKED; both mean "this server is no longer the primary", so the connection is dropped and
 * re-dialled (through the stable address — a cloud endpoint, a proxy that follows Sentinel — it
 * reaches the new primary). A write refused with READONLY was not executed, so it is resent on the
 * new connection; anything that still fails reaches the caller as a transient error
 * (`isTransientRedisError`) to be retried with backoff or answered with 503.
 *
 * A Redis Cluster (ElastiCache cluster mode) is named by its own scheme, `redis+cluster://` or
 * `rediss+cluster://` (TLS), with one or more seed nodes: `redis+cluster://user:pw@h1:7000,h2:7001`
 * or the configuration endpoint alone. Every process then gets an ioredis `Cluster`, which follows
 * MOVED and ASK itself (a slot that moves, a replica promoted) and re-reads the slot map; a
 * pool's keys share one hash tag, so its scripts, MULTIs and BLPOPs stay on one node.
 */
import { Cluster, Redis, type ClusterOptions, type RedisOptions } from "ioredis";
import { redisErrorCode } from "./errors.js";
import { redactUrl } from "./redact.js";

/** What the connection is for. */
export type RedisUse =
  /** Ordinary commands of a long-running process: fail fast while disconnected, never give up dialling. */
  | "commands"
  /** BLPOP / XREAD BLOCK: a connection of its own, no command timeout, never gives up. */
  | "blocking"
  /** SUBSCRIBE: ioredis resubscribes after every reconnect. */
  | "subscriber"
  /** A one-shot CLI: one dial, no reconnect. */
  | "one-shot";

export interface RedisConnectOptions {
  use?: RedisUse;
  /** Per-command timeout for "commands" and "one-shot" (ms). */
  commandTimeoutMs?: number;
  connectTimeoutMs?: number;
  /** Dial without connecting (the caller calls connect()). */
  lazyConnect?: boolean;
  /** Queue commands while reconnecting instead of failing them at once. */
  offlineQueue?: boolean;
}

/**
 * Backoff between reconnects: the first at once (a role change or a dropped connection usually has
 * a new primary behind the address already), then 50 ms doubling to 2 s, ±20 % jitter so a fleet
 * does not dial in step.
 */
export function reconnectDelayMs(attempt: number, random: () => number = Math.random): number {
  if (attempt <= 1) return 0;
  const base = Math.min(2_000, 50 * 2 ** Math.min(attempt - 2, 6));
  return Math.round(base * (0.8 + 0.4 * random()));
}

/**
 * ioredis `reconnectOnError`: 2 = reconnect and resend the failed command (READONLY: not executed,
 * safe to resend), 1 = reconnect and hand the error to the caller (UNBLOCKED: the blocked read is
 * cut; its owner loops), false = keep the connection.
 */
export function reconnectOnRoleChange(err: Error): boolean | 1 | 2 {
  const code = redisErrorCode(err);
  if (code === "READONLY") return 2;
  if (code === "UNBLOCKED" || code === "MASTERDOWN") return 1;
  return false;
}

/** Role-change re-dials at most this often: a server that stays a replica is not dialled in a loop. */
export const ROLE_CHANGE_REDIAL_MS = 1_000;

/**
 * `reconnectOnRoleChange`, throttled: after a re-dial, errors within ROLE_CHANGE_REDIAL_MS reach
 * the caller as they are (transient: retried, or answered 503) instead of re-dialling again, so a
 * URL that points at a replica for good costs one dial a second, and its callers see READONLY.
 */
export function throttledRoleChange(
  now: () => number = () => performance.now(),
): (err: Error) => boolean | 1 | 2 {
  let last = -Infinity;
  return (err) => {
    const r = reconnectOnRoleChange(err);
    if (r === false || now() - last < ROLE_CHANGE_REDIAL_MS) return false;
    last = now();
    return r;
  };
}

/** The ioredis options for one use (exported for processes that build their own connection). */
export function redisOptions(o: RedisConnectOptions = {}): RedisOptions {
  const use = o.use ?? "commands";
  const oneShot = use === "one-shot";
  return {
    // No connectionName: with the ready check off, ioredis sends CLIENT SETNAME on connect, and a
    // connection closed during it stays "ready" but unwritable for good (every command then fails
    // with "Stream isn't writeable"), which a failover behind a proxy does (test/redis/reconnect).
    lazyConnect: o.lazyConnect ?? false,
    connectTimeout: o.connectTimeoutMs ?? 5_000,
    // The ready check runs INFO, which no role is granted (it tells server internals); LOADING is a
    // transient error every caller already retries.
    enableReadyCheck: false,
    disableClientInfo: true,
    ...(use === "blocking" || use === "subscriber"
      ? { maxRetriesPerRequest: null, enableOfflineQueue: true }
      : {
          commandTimeout: o.commandTimeoutMs ?? 5_000,
          maxRetriesPerRequest: oneShot ? 0 : 1,
          enableOfflineQueue: o.offlineQueue ?? false,
        }),
    retryStrategy: oneShot ? () => null : (n: number) => reconnectDelayMs(n),
    reconnectOnError: oneShot ? () => false : throttledRoleChange(),
  };
}

/**
 * A connection for `use`; the URL may carry an ACL user (`redis://user:password@host`). A
 * `redis+cluster://` URL gives an ioredis `Cluster` (typed as the `Redis` it stands in for: the
 * commands, scripts, pipelines of one slot, MULTI, BLPOP and SUBSCRIBE the code uses are the same).
 */
export function createRedis(url: string, o: RedisConnectOptions & { autoPipelining?: boolean } = {}): Redis {
  const target = parseRedisUrl(url);
  const auto = o.autoPipelining ? { enableAutoPipelining: true } : {};
  if (target.kind === "single") return new Redis(url, { ...redisOptions(o), ...auto });
  return new Cluster(target.seeds, { ...clusterOptions(target, o), ...auto }) as unknown as Redis;
}

/** A URL as the factory reads it: one server, or the seeds of a Redis Cluster. */
export type RedisTarget =
  | { kind: "single"; url: URL }
  | {
      kind: "cluster";
      tls: boolean;
      seeds: { host: string; port: number }[];
      username?: string;
      password?: string;
    };

export const CLUSTER_SCHEMES = ["redis+cluster:", "rediss+cluster:"] as const;

const URL_FORMS =
  "redis://[user:password@]host[:port][/db], rediss:// for TLS, or redis+cluster://[user:password@]host:port[,host:port…] (rediss+cluster:// for TLS) for a Redis Cluster";

/** Parses a Redis URL; the message names the rule and never the password. */
export function parseRedisUrl(url: string, field = "redis URL"): RedisTarget {
  const scheme = /^([a-z+]+):\/\//i.exec(url)?.[1]?.toLowerCase();
  if (scheme === "redis+cluster" || scheme === "rediss+cluster") return parseClusterUrl(url, scheme, field);
  return { kind: "single", url: checkRedisUrl(url, field) };
}

/** Checks a Redis URL's shape (either form); the message names the rule and never the password. */
export function checkRedisUrl(url: string, field = "redis URL"): URL {
  const scheme = /^([a-z+]+):\/\//i.exec(url)?.[1]?.toLowerCase();
  if (scheme === "redis+cluster" || scheme === "rediss+cluster") {
    parseClusterUrl(url, scheme, field);
    return new URL(`${scheme}://cluster`);
  }
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new Error(`${field}: not a URL (${JSON.stringify(redactUrl(url))}); expected ${URL_FORMS}`);
  }
  if (u.protocol !== "redis:" && u.protocol !== "rediss:") {
    throw new Error(
      `${field}: scheme must be redis://, rediss:// (TLS), redis+cluster:// or rediss+cluster://, got ${JSON.stringify(u.protocol.replace(/:$/, ""))}`,
    );
  }
  if (u.hostname === "") throw new Error(`${field}: names no host (redis://host:port)`);
  return u;
}

function parseClusterUrl(url: string, scheme: string, field: string): RedisTarget {
  const rest = url.slice(scheme.length + 3);
  const at = rest.lastIndexOf("@");
  const userinfo = at >= 0 ? rest.slice(0, at) : undefined;
  let hosts = at >= 0 ? rest.slice(at + 1) : rest;
  const slash = hosts.indexOf("/");
  if (slash >= 0) {
    const path = hosts.slice(slash);
    if (path !== "/" && path !== "/0")
      throw new Error(`${field}: a Redis Cluster has database 0 only, got the path ${JSON.stringify(path)}`);
    hosts = hosts.slice(0, slash);
  }
  if (hosts === "") throw new Error(`${field}: names no seed node (${scheme}://host:port[,host:port…])`);
  const seeds = hosts.split(",").map((h) => {
    const m = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9._-]+)(?::(\d{1,5}))?$/.exec(h);
    const port = Number(m?.[2] ?? 6379);
    if (!m || port < 1 || port > 65535)
      throw new Error(`${field}: seed ${JSON.stringify(h)} is not host[:port] (port 1-65535)`);
    return { host: m[1]!.replace(/^\[|\]$/g, ""), port };
  });
  const out: RedisTarget = { kind: "cluster", tls: scheme === "rediss+cluster", seeds };
  if (userinfo !== undefined) {
    const colon = userinfo.indexOf(":");
    const user = decodeURIComponent(colon >= 0 ? userinfo.slice(0, colon) : userinfo);
    if (user !== "") out.username = user;
    if (colon >= 0) out.password = decodeURIComponent(userinfo.slice(colon + 1));
  }
  return out;
}

/**
 * The ioredis Cluster options for one use: each node's connection gets `redisOptions(o)` (timeouts,
 * retries, the role-change policy) and the URL's credentials; the cluster follows MOVED/ASK up to
 * 16 times and re-reads the slot map on its own; reads and writes go to masters (a claim must read
 * what it wrote).
 */
export function clusterOptions(
  t: Extract<RedisTarget, { kind: "cluster" }>,
  o: RedisConnectOptions = {},
): ClusterOptions {
  const node = redisOptions(o);
  const oneShot = (o.use ?? "commands") === "one-shot";
  const { lazyConnect, enableOfflineQueue, retryStrategy: _retry, ...perNode } = node;
  return {
    lazyConnect: lazyConnect ?? false,
    enableOfflineQueue: enableOfflineQueue ?? false,
    // The ready check runs CLUSTER INFO, which no role is granted.
    enableReadyCheck: false,
    scaleReads: "master",
    maxRedirections: 16,
    retryDelayOnMoved: 0,
    retryDelayOnFailover: 100,
    retryDelayOnClusterDown: 100,
    retryDelayOnTryAgain: 100,
    slotsRefreshTimeout: 2_000,
    clusterRetryStrategy: oneShot ? () => null : (n: number) => reconnectDelayMs(n),
    // ElastiCache with TLS: the certificate names the node's DNS name, not its address.
    ...(t.tls ? { dnsLookup: (address: string, cb: (e: null, a: string) => void) => cb(null, address) } : {}),
    redisOptions: {
      ...perNode,
      ...(t.username !== undefined ? { username: t.username } : {}),
      ...(t.password !== undefined ? { password: t.password } : {}),
      ...(t.tls ? { tls: {} } : {}),
    },
  };
}

/** True when the URL names a Redis Cluster (`redis+cluster://` or `rediss+cluster://`). */
export function isClusterUrl(url: string): boolean {
  return /^rediss?\+cluster:\/\//i.test(url);
}

/** The URL with an ACL user and password set (both URL-encoded). */
export function withCredentials(url: string, user: string, password: string): string {
  const t = parseRedisUrl(url);
  if (t.kind === "cluster") {
    const scheme = t.tls ? "rediss+cluster" : "redis+cluster";
    const seeds = t.seeds.map((s) => `${s.host.includes(":") ? `[${s.host}]` : s.host}:${s.port}`).join(",");
    return `${scheme}://${encodeURIComponent(user)}:${encodeURIComponent(password)}@${seeds}`;
  }
  const u = new URL(url);
  u.username = encodeURIComponent(user);
  u.password = encodeURIComponent(password);
  return u.toString();
}
