import type { CapacityPassResult } from "../asg/index.js";
import type { DesiredState } from "../config/index.js";
import type { ObserveStatus } from "../observe/index.js";
import type { PlanCounts } from "../plan/index.js";
import type { DesiredStatus } from "./ports.js";

export type PassResult = "ok" | "partial" | "error" | "skipped";

/**
 * The reconciler's last observed snapshot, written as JSON to the pool's `status` key after each
 * pass: what `warmpool ctl status` and dashboards read without talking to ECS.
 */
export interface StatusSnapshot {
  pool: string;
  leader: { id: string; epoch: number };
  updatedAtMs: number;
  counts: PlanCounts | null;
  target: number | null;
  desired: DesiredState | null;
  config: { status: DesiredStatus | "unreadable"; valid: boolean; lastRejection: string | null };
  lastPass: {
    id: number;
    trigger: "event" | "resync" | "start";
    startedAtMs: number;
    durationMs: number;
    result: PassResult;
    reason: string;
    actions: Record<string, number>;
    ecsCalls: { list: number; describe: number };
  } | null;
  /**
   * When the current run of passes that did not end `ok` began (error or partial, in a row);
   * absent while the last pass was ok. `ctl status` turns a long run into "no pass succeeded".
   */
  failingSinceMs?: number;
  /** The last few errors, newest first, each with when. */
  lastErrors: { atMs: number; message: string }[];
  runFailures: { reason: string; count: number; lastAtMs: number }[];
  /** On-call's drain request in force (the `drain` key), null when none or malformed. */
  drain?: { revision?: string; beforeMs: number } | null;
  /** `policy: "adaptive"`: this pass's warm target and why; null under `static`. */
  adaptive?: { target: number; explanation: string } | null;
  /** The resolved task definition ARN new tasks run (what `ctl status` marks as the target revision). */
  revision?: string;
  /**
   * The CapacityReconciler's last result, as is (`ctl status` renders groupName, plan.instances,
   * plan.reason and errors); absent until a capacity pass ran.
   */
  asg?: CapacityPassResult;
  /** The last Auto Scaling pass, when the desired state has an `asg` block. */
  capacity?: { groupName: string; reason: string; done: string[]; errors: string[] };
  /**
   * How ECS is observed: `list` (every pass lists and describes everything) or `cache` with the
   * feed's state (null = no feed configured), the last relist and its drift.
   */
  observe?: ObserveStatus | { mode: "list" };
}

export function emptyStatus(pool: string, holderId: string): StatusSnapshot {
  return {
    pool,
    leader: { id: holderId, epoch: 0 },
    updatedAtMs: 0,
    counts: null,
    target: null,
    desired: null,
    config: { status: "unreadable", valid: false, lastRejection: null },
    lastPass: null,
    lastErrors: [],
    runFailures: [],
  };
}
