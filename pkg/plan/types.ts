/**
 * The planner's data: what it is given and what it decides. No I/O types leak in here: the
 * observe drivers translate ECS and Redis into these shapes, the act drivers carry out Actions.
 * The reconciler and `warmpool sim` both feed these to the same `plan()`.
 */
import type { DesiredState } from "../config/index.js";

/** Pool-side lifecycle (DESIGN §3), kept in Redis `task:<taskId>`. */
export type PoolTaskState = "starting" | "warm" | "claimed" | "draining";

/** ECS lastStatus values a task walks through. */
export type EcsStatus =
  | "PROVISIONING"
  | "PENDING"
  | "ACTIVATING"
  | "RUNNING"
  | "DEACTIVATING"
  | "STOPPING"
  | "DEPROVISIONING"
  | "STOPPED";

/** One pool task as ECS reports it (ListTasks startedBy=<pool> + DescribeTasks). */
export interface EcsTask {
  taskId: string; // last segment of the ARN
  taskArn: string;
  lastStatus: EcsStatus;
  desiredStatus: "RUNNING" | "STOPPED";
  taskDefinitionArn: string;
  createdAtMs: number;
  startedAtMs?: number;
  stoppedAtMs?: number;
  stopCode?: string;
  stoppedReason?: string;
  /** ECS's per-task change counter (`version`): a higher one is a later state of the task. */
  version?: number;
}

/** One pool task as Redis records it (`task:<taskId>` hash). */
export interface TaskRecord {
  taskId: string;
  taskArn?: string;
  state: PoolTaskState;
  revision?: string; // task definition ARN it was launched with
  createdAtMs: number; // when the reconciler recorded the launch (RunTask returned)
  warmAtMs?: number; // when the bridge registered
  claimId?: string;
  leaseExpiresAtMs?: number; // of its claim, when claimed
  drainReason?: string;
}

/** Observation of one pass. `complete=false` ⇒ the planner acts on nothing destructive. */
export interface Observed {
  /** Every observation (ECS list+describe, Redis) succeeded in full this pass. */
  complete: boolean;
  ecs: EcsTask[];
  records: TaskRecord[];
  /** Claims queued because the pool was empty. */
  waiting: number;
  /** Task definition ARN that new tasks are launched with (resolved from desired state). */
  revision: string;
  /** RunTask failures seen recently (for backoff); keyed by reason, with the time of the last. */
  recentRunFailures?: { reason: string; count: number; lastAtMs: number }[];
  /** When the last RunTask batch was issued, for backoff after failures. */
  lastRunAtMs?: number;
  /** True when this pass was woken by an event (claim/miss/config), false for the resync tick. */
  eventTriggered: boolean;
  /**
   * The desired state differs from the previous pass's (DesiredStateTracker `changed`). An
   * operator's change is applied at once, even on an event-triggered pass that the
   * replenishThreshold rule would otherwise leave to the resync.
   */
  desiredChanged?: boolean;
  /**
   * A resync is due: at least one resync interval has passed since the last pass that was free
   * to refill (a resync or start pass, or one with this flag set). The gate then opens as on a
   * resync even if an event woke this pass, so a steady stream of events can never leave the
   * refill to a resync that never comes. Absent = false (the older contract: only
   * `eventTriggered: false` opens it).
   */
  resyncDue?: boolean;
  /**
   * On-call's drain request (`warmpool ctl drain [--revision X]`): warm and starting tasks created
   * before `beforeMs` (`createdAtMs`, else `warmAtMs`) — and, when `revision` is named, whose
   * revision it names (`revisionMatches`) — are replaced like an old revision: surge first,
   * never below minWarm warm, stop reason `drain`. Claimed tasks are never touched. Replacements
   * are created after `beforeMs`, so the drain converges. Absent = no drain in force.
   */
  drain?: { revision?: string; beforeMs: number };
  /**
   * When the pool's Redis state began (Redis TIME of the first pass that found no birth marker).
   * A live pool task ECS created before it cannot have a record in this Redis: its record was lost
   * with the state (a Redis restart without persistence, a failover to an empty replica). It may
   * be serving a user, so it is never stopped as an orphan; it is counted as `unaccounted` for
   * on-call to see. Absent = every unrecorded task past the grace is an orphan (older contract).
   */
  stateBornAtMs?: number;
}

export type StopReason =
  | "excess" // more idle warm tasks than maxWarm
  | "released" // its claim was released: never returns to the pool
  | "lease-expired" // its claim lease passed without heartbeat
  | "never-registered" // no bridge registration within the start timeout
  | "old-revision" // rollout of a new task definition
  | "over-cap" // more tasks than maxTasks
  | "orphan" // running in ECS with no Redis record past the grace period
  | "drain" // on-call asked for it
  | "out-of-band"; // ECS is already stopping it (StopTask by someone else, spot, exit): cordon so no claim takes it

export type Action =
  | { kind: "run"; count: number; revision: string; reason: "below-target" | "waiting-claims" | "surge" }
  /** Warm → draining only if still warm (atomic in Redis), then StopTask. */
  | { kind: "cordon-stop"; taskId: string; taskArn?: string; reason: StopReason }
  /** Already draining / never registered / orphan: StopTask directly (never a live claim). */
  | { kind: "stop"; taskId: string; taskArn: string; reason: StopReason }
  /** Claims whose lease ran out: claimed → draining (Redis script re-checks TIME). */
  | { kind: "expire-claims" }
  /** Redis record whose task ECS no longer has (or never had after the grace period). */
  | { kind: "forget"; taskId: string; reason: "gone-from-ecs" | "never-seen" };

export interface PlanCounts {
  starting: number; // launched, not yet registered (includes expected, not yet listed)
  expected: number; // of starting: recorded in Redis but not yet visible in ListTasks
  warm: number;
  claimed: number;
  draining: number;
  waiting: number;
  total: number; // every live pool task, for maxTasks
  /** Live pool tasks older than the Redis state, with no record: held, never stopped as orphans. */
  unaccounted?: number;
  /**
   * Rollout or drain progress: warm tasks of an old revision (or covered by a drain) still left
   * to replace after this pass. Claimed old ones are not counted: they finish their sessions.
   */
  outdated?: number;
}

export interface Plan {
  actions: Action[];
  /** The warm target this pass aimed for, after clamping and caps. */
  target: number;
  counts: PlanCounts;
  /** One line a human reads in logs and `ctl status`: why this pass did what it did. */
  reason: string;
  /** When true, nothing destructive was planned because the observation was partial or paused. */
  held?: "paused" | "partial-observation";
  /**
   * Launches the pass wanted but did not plan: `resync` — an event-triggered pass with idle at or
   * above replenishThreshold leaves the refill to the next resync; `backoff` — RunTask failed
   * recently and the next launch is due at `untilMs`.
   */
  launchHeld?: { why: "resync" | "backoff"; wanted: number; untilMs?: number };
}

/** Timing knobs of the planner that are not desired state (flags). */
export interface PlanTimings {
  /** A launched task that has not registered by then is stopped. */
  registerTimeoutMs: number;
  /** A Redis `starting` record not yet in ListTasks counts as expected for this long. */
  visibilityGraceMs: number;
  /** Minimum spacing between RunTask batches after failures (exponential from here). */
  runBackoffBaseMs: number;
  runBackoffMaxMs: number;
}

export const DEFAULT_TIMINGS: PlanTimings = {
  registerTimeoutMs: 180_000,
  visibilityGraceMs: 60_000,
  runBackoffBaseMs: 1_000,
  runBackoffMaxMs: 60_000,
};

/** The planner's signature: data in, decisions out. `nowMs` is the only clock it sees. */
export type PlanFn = (
  desired: DesiredState,
  observed: Observed,
  nowMs: number,
  timings?: PlanTimings,
) => Plan;
