/**
 * What happened to every task and claim, for the conservation checks: a task is served to at
 * most one claim, and a claimed task never becomes warm again. The simulator counts violations
 * as they happen; with `keep` it also records the raw history so a test can recount them from
 * the events themselves.
 */
import type { PoolTaskState } from "../plan/index.js";

export interface ClaimEntry {
  claimId: string;
  arrivedAtMs: number;
  taskId?: string;
  servedAtMs?: number;
  hit: boolean;
}

export interface Transition {
  taskId: string;
  atMs: number;
  to: PoolTaskState | "stopped";
}

export interface Violations {
  /** A task handed to a second claim. */
  servedTwice: number;
  /** A task that was claimed became warm (claimable) again. */
  warmAfterClaim: number;
  /** A task with a live claim was stopped. */
  liveClaimStopped: number;
}

export class Ledger {
  readonly claims: ClaimEntry[] = [];
  readonly transitions: Transition[] = [];
  readonly violations: Violations = { servedTwice: 0, warmAfterClaim: 0, liveClaimStopped: 0 };

  constructor(readonly keep: boolean) {}

  claim(e: ClaimEntry): void {
    if (this.keep) this.claims.push(e);
  }

  transition(taskId: string, atMs: number, to: Transition["to"]): void {
    if (this.keep) this.transitions.push({ taskId, atMs, to });
  }
}
