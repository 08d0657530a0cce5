/**
 * What the reconciler needs from its collaborators, and nothing more. pkg/claims' PoolStore and
 * pkg/config's desired-state tracker satisfy these; tests and `warmpool sim` may pass others.
 */
import type { DesiredState } from "../config/index.js";
import type { TaskRecord } from "../plan/index.js";

/** The pool's Redis side (docs/redis-contract.md): records, waiters, and the atomic scripts. */
export interface PoolState {
  observe(): Promise<{ records: TaskRecord[]; waiting: number }>;
  /**
   * `starting` records for what RunTask returned (never overwrites): also the launch expectation.
   * Fenced by the lease epoch unless `fenced: false` (a launch ECS accepted is recorded whatever
   * the lease says by the time its answer lands).
   */
  recordLaunches(
    launches: { taskId: string; taskArn: string; revision: string }[],
    opts?: { fenced?: boolean },
  ): Promise<void>;
  /** starting|warm → draining, atomically; false ⇒ it was claimed (or is gone): do NOT stop it. */
  cordon(taskId: string, reason: string): Promise<boolean>;
  /** Orphan (live, no record) → a `draining` record first; false ⇒ it registered meanwhile: do NOT stop it. */
  markOrphan(taskId: string, taskArn: string): Promise<boolean>;
  /** Claims past their lease → their tasks draining; returns those task ids. */
  expireLeases(): Promise<string[]>;
  forget(taskId: string): Promise<void>;
}

export type DesiredStatus = "valid" | "missing" | "invalid";

/** One read of the desired state, with the last good one already substituted when invalid. */
export interface DesiredReading {
  /** The desired state in force this pass. */
  desired: DesiredState;
  status: DesiredStatus;
  /** When invalid: one line naming the field(s) and the rule(s). */
  rejection?: string;
  /** The desired state in force differs from the previous read's (applied at once by the planner). */
  changed?: boolean;
}

/** Reads `wp:{pool}:config` every pass and keeps the last good one (pkg/config). */
export interface DesiredSource {
  read(): Promise<DesiredReading>;
}
