/**
 * The gateway's defences against slow clients, as Node's HTTP server applies them (Node ≥ 18):
 *
 * - `headersTimeoutMs`: a connection must deliver a request's complete headers this long after
 *   the request began (or after it connected): a client trickling headers is answered 408 and cut.
 * - `requestTimeoutMs`: the whole request (headers and body) must arrive within this. It covers
 *   receiving only — a claim waiting for a task after its body arrived is not cut by it.
 * - `keepAliveTimeoutMs`: an idle connection between requests is closed after this. Behind a load
 *   balancer it must be LONGER than the balancer's idle timeout, so the balancer always closes an
 *   idle connection first; the other way round it may send a request on a connection the gateway
 *   is closing and answer 502. The deploy's ALB uses 330 s (`gateway_idle_timeout_seconds`).
 * - `socketIdleTimeoutMs`: a socket silent this long while a request is in progress is destroyed.
 *   A claim may legitimately wait up to max(maxWaitMs, readyTimeoutMs) without a byte on the wire,
 *   so it must be longer than that (checked at start).
 *
 * On Node 20 `headersTimeout` only runs while a request is being received, never on an idle
 * keep-alive connection, so it need not exceed `keepAliveTimeout` (an old Node 12 workaround);
 * test/gateway/timeouts.test.ts shows an idle connection outliving it.
 */
import type { Server } from "node:http";

export interface GatewayTimeouts {
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  keepAliveTimeoutMs: number;
  socketIdleTimeoutMs: number;
}

/** The ALB idle timeout of deploy/terraform (`gateway_idle_timeout_seconds`, 330 s) plus a margin. */
export const DEFAULT_KEEP_ALIVE_TIMEOUT_MS = 335_000;

export const DEFAULT_TIMEOUTS: Omit<GatewayTimeouts, "socketIdleTimeoutMs"> = {
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  keepAliveTimeoutMs: DEFAULT_KEEP_ALIVE_TIMEOUT_MS,
};

/** How much longer than the longest legitimate silent wait a socket may stay silent. */
export const SOCKET_IDLE_MARGIN_MS = 30_000;

/**
 * The timeouts in force: defaults filled in, the socket idle timeout derived from the longest
 * claim wait when not given. Throws naming every bad value at once.
 */
export function resolveTimeouts(given: Partial<GatewayTimeouts>, longestWaitMs: number): GatewayTimeouts {
  const t: GatewayTimeouts = {
    ...DEFAULT_TIMEOUTS,
    ...given,
    socketIdleTimeoutMs: given.socketIdleTimeoutMs ?? longestWaitMs + SOCKET_IDLE_MARGIN_MS,
  };
  const problems: string[] = [];
  for (const [name, v] of Object.entries(t)) {
    if (!Number.isInteger(v) || v <= 0) problems.push(`${name}: must be a positive integer (ms)`);
  }
  if (t.headersTimeoutMs > t.requestTimeoutMs)
    problems.push(
      `headersTimeoutMs: must not exceed requestTimeoutMs (${t.requestTimeoutMs}); the headers are part of the request`,
    );
  if (t.socketIdleTimeoutMs <= longestWaitMs)
    problems.push(
      `socketIdleTimeoutMs: must be longer than the longest claim wait (${longestWaitMs} ms = max(maxWaitMs, readyTimeoutMs)), or waiting claims are cut`,
    );
  if (problems.length) throw new Error(`gateway timeouts: ${problems.join("; ")}`);
  return t;
}

/** Applies the timeouts to a server, and checks them often enough to honour short ones. */
export function serverTimeoutOptions(t: GatewayTimeouts): {
  headersTimeout: number;
  requestTimeout: number;
  keepAliveTimeout: number;
  connectionsCheckingInterval: number;
} {
  return {
    headersTimeout: t.headersTimeoutMs,
    requestTimeout: t.requestTimeoutMs,
    keepAliveTimeout: t.keepAliveTimeoutMs,
    // Node checks header/request deadlines on this interval (default 30 s, which would let a 10 s
    // headers timeout run to 40 s); a quarter of the shortest deadline, within 100 ms..5 s.
    connectionsCheckingInterval: Math.max(100, Math.min(5_000, Math.floor(t.headersTimeoutMs / 4))),
  };
}

export function applySocketTimeout(server: Server, t: GatewayTimeouts): void {
  server.keepAliveTimeout = t.keepAliveTimeoutMs;
  server.headersTimeout = t.headersTimeoutMs;
  server.requestTimeout = t.requestTimeoutMs;
  // Per-socket idle timeout while a request is in progress: the socket is destroyed.
  server.setTimeout(t.socketIdleTimeoutMs, (socket) => socket.destroy());
}
