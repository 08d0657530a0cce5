/**
 * The claim protocol's names beyond DESIGN §4, derived from PoolKeys so the `wp:{pool}:` hash tag
 * holds (every script of a pool stays in one Cluster slot). Documented in docs/redis-contract.md;
 * candidates to move into PoolKeys.
 */
import { PoolKeys } from "../keys/index.js";

export class ClaimKeys extends PoolKeys {
  /** List a task's bridge blocks on (BLPOP): init_user, release, drain messages. */
  inbox(taskId: string): string {
    return `${this.task(taskId)}:inbox`;
  }
  /** Pub/sub channel: a claim became ready, failed or ended (JSON). Gateways subscribe once. */
  get readyChannel(): string {
    return `${this.prefix}claims:notify`;
  }
  /** Hash userId → n: the stable offset of a user's own UID/GID (per-user isolation). */
  get userUids(): string {
    return `${this.prefix}uids`;
  }
  /** Zset claimId → live-until ms: one user's live claims, for the per-user quota (claim-8+.lua). */
  userQuota(userId: string): string {
    return `${this.prefix}quota:user:${userId}`;
  }
  /** Zset claimId → live-until ms: one client's (bearer token's) live claims, for its quota. */
  clientQuota(clientId: string): string {
    return `${this.prefix}quota:client:${clientId}`;
  }
  /** Counter handing out the next n for `userUids`. */
  get userUidNext(): string {
    return `${this.prefix}uids:next`;
  }
}

/** How long an ended claim's record stays readable (idempotent replays, audits). */
export const ENDED_CLAIM_RETENTION_MS = 24 * 3600_000;
/** How long an Idempotency-Key maps to its claim. */
export const IDEMPOTENCY_TTL_MS = 24 * 3600_000;
/** Cap of the events stream (approximate trimming). */
export const EVENTS_MAXLEN = 10_000;
