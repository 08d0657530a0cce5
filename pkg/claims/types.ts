/** Shapes of the claim protocol shared by the gateway, the library callers and the bridge. */

/** Lifecycle of a claim record (`claim:<claimId>`). */
export type ClaimState =
  | "waiting" // queued for an empty pool
  | "assigned" // holds a task; init_user sent, not ready yet
  | "ready" // the bridge prepared the workspace and started the agent
  | "failed" // the bridge could not prepare the session
  | "released" // its user let it go
  | "timeout" // no task was ready within waitMs
  | "expired" // its lease ran out
  | "ended" // the agent exited / the bridge ended the session
  | "lost"; // its task vanished from ECS

export const LIVE_CLAIM_STATES: readonly ClaimState[] = ["waiting", "assigned", "ready"];

/** A claim the user can use: where the task serves the session and the secret it accepts. */
export interface ReadyClaim {
  claimId: string;
  taskId: string;
  /** `host:port` of the bridge's WebSocket server. */
  endpoint: string;
  token: string;
  leaseExpiresAtMs: number;
  /** True when a warm task was taken at once, false when the claim waited for a new task. */
  warm: boolean;
}

export interface ClaimRequest {
  userId: string;
  /** Lease length; heartbeats renew it. */
  leaseSeconds?: number;
  /** How long to wait for a task when the pool is empty (0 = do not queue). */
  waitMs?: number;
  /** Same key ⇒ same claim, never a second task. */
  idempotencyKey?: string;
  /**
   * Who is calling, for the per-client quota (the gateway passes an id derived from the bearer
   * token); 1-128 printable ASCII characters. Absent: no per-client quota applies.
   */
  clientId?: string;
  /**
   * The caller going away: aborted before the result settles, the claim is released at once — a
   * queued claim leaves the queue, a taken task drains (it never returns to the pool) — and the
   * result is `ended` (`released`). Once the result has settled the signal is ignored.
   */
  signal?: AbortSignal;
}

/** Which limit refused a claim (`rejected`). */
export type ClaimQuota = "user" | "client" | "waiting";

export type ClaimResult =
  | { outcome: "ready"; claim: ReadyClaim; replayed: boolean }
  /** No task was ready in time: the caller answers 503 + Retry-After. */
  | { outcome: "timeout"; claimId: string; reason: string }
  /** The task could not prepare the session (e.g. workspace refused): the task drains. */
  | { outcome: "failed"; claimId: string; reason: string }
  /** The idempotency key was used for another user. */
  | { outcome: "conflict"; reason: string }
  /**
   * Refused before anything changed: the user or the client already holds its quota of live
   * claims (the caller answers 429), or the pool is empty and the waiting queue is full (503).
   */
  | { outcome: "rejected"; quota: ClaimQuota; limit: number; reason: string }
  /**
   * The claim ended before it was ready: its task went away (`lost`) or its session ended, or —
   * `replayed` — an Idempotency-Key replay found the earlier claim ended since.
   */
  | { outcome: "ended"; claimId: string; state: ClaimState; replayed?: boolean };

/**
 * A claim as soon as the claim script answered (one Redis round trip), before the task is ready:
 * for a session service that shows progress ("task assigned, preparing your workspace") or does
 * other work meanwhile. `result` settles exactly as `claim()` would.
 */
export interface ClaimHandle {
  /**
   * `assigned`: a warm task was taken for this claim (`taskId`), init_user is on its way;
   * `queued`: the pool was empty, the claim waits FIFO for the next task to register;
   * `replayed`: the Idempotency-Key names an earlier claim, whose outcome `result` gives;
   * `settled`: nothing to wait for (empty pool with waitMs 0, or a key used for another user).
   */
  stage: "assigned" | "queued" | "replayed" | "settled";
  claimId?: string;
  /** The task taken, when `assigned`. */
  taskId?: string;
  result: Promise<ClaimResult>;
}

export type HeartbeatResult =
  | { outcome: "renewed"; leaseExpiresAtMs: number }
  | { outcome: "unknown" }
  | { outcome: "ended"; state: ClaimState }
  | { outcome: "expired" }
  | { outcome: "waiting" };

export type ReleaseResult =
  | { outcome: "released"; taskId?: string }
  | { outcome: "already-ended"; state: ClaimState }
  | { outcome: "unknown" };

/** Messages a bridge receives on its inbox. */
export type InboxMessage =
  | { type: "init_user"; claimId: string; userId: string }
  | { type: "release"; claimId: string; reason: string }
  | { type: "drain"; reason: string };

/** What gateways hear on the ready channel. */
export type ClaimNotice =
  | {
      claimId: string;
      state: "ready";
      taskId: string;
      endpoint: string;
      token: string;
      leaseExpiresAtMs: number;
      warm: boolean;
    }
  | { claimId: string; state: Exclude<ClaimState, "ready">; detail?: string };
