/**
 * Which Redis failures are transient: a role change (READONLY on a demoted primary, UNBLOCKED for a
 * blocked command it cut), a server still loading or without a primary, a cluster slot moving, or
 * the connection itself lost. Callers retry these with backoff and answer "unavailable" (503)
 * meanwhile; anything else is a real error.
 */
const TRANSIENT_REPLY_CODES = new Set([
  "READONLY",
  "UNBLOCKED",
  "LOADING",
  "MASTERDOWN",
  "TRYAGAIN",
  "CLUSTERDOWN",
  "BUSY",
]);

const TRANSIENT_SYSCALL_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENOTCONN",
]);

/** The reply's error code (`READONLY`, `NOSCRIPT`, `NOPERM` …): the first word of a Redis error reply. */
export function redisErrorCode(e: unknown): string | undefined {
  if (!(e instanceof Error)) return undefined;
  const m = /^([A-Z][A-Z_]+)\b/.exec(e.message);
  return m?.[1];
}

export function isTransientRedisError(e: unknown): boolean {
  if (!(e instanceof Error)) return false;
  const reply = redisErrorCode(e);
  if (reply && TRANSIENT_REPLY_CODES.has(reply)) return true;
  const sys = (e as { code?: unknown }).code;
  if (typeof sys === "string" && TRANSIENT_SYSCALL_CODES.has(sys)) return true;
  // ioredis: the connection closed under the command, or its retries per request ran out.
  if (e.name === "MaxRetriesPerRequestError") return true;
  // ioredis Cluster: a slot moving or a master failing over outlasted its redirections (TRYAGAIN,
  // ASK, MOVED) or the slot map could not be read meanwhile.
  if (e.name === "ClusterAllFailedError") return true;
  return /Connection is closed|Stream isn't writeable|connect ETIMEDOUT|Command timed out|Too many Cluster redirections|Failed to refresh slots cache/i.test(
    e.message,
  );
}
