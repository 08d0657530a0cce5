/**
 * The census joins what ECS says (ground truth for "is it running") with what Redis records
 * (ground truth for "is it starting, warm, claimed, draining") and sorts every pool task into
 * one bucket. It also decides everything that follows from one task alone: stop a draining
 * task, cordon one that never registered, stop an orphan, forget a record of a task ECS no
 * longer has. What depends on counts (target, excess, over-cap, rollout) is sizing.ts's job.
 */
import type { Action, EcsTask, Observed, PlanTimings, StopReason, TaskRecord } from "./types.js";

/** One pool task as both sides see it. */
export interface Slot {
  taskId: string;
  taskArn?: string;
  record?: TaskRecord;
  ecs?: EcsTask;
  /** Task definition it runs: ECS's word when listed, else the record's. */
  revision?: string;
}

export interface Census {
  /** Warm records whose task is live (or not yet listed, within the grace). Claimable. */
  warm: Slot[];
  /** `starting` records whose ECS task is live and still within the register timeout. */
  starting: Slot[];
  /** `starting` records not yet visible in ListTasks, within the grace: launch expectations. */
  expected: Slot[];
  /** Live pool tasks with no record yet, within the grace (the record write may trail RunTask). */
  unrecorded: Slot[];
  /** Live pool tasks with no record that predate the Redis state: held, never stopped. */
  unaccounted: Slot[];
  /** Claimed / draining records whose task ECS has not stopped yet (live or on its way down). */
  claimed: Slot[];
  draining: Slot[];
  /** Every live pool task: live in ECS, plus records not yet listed within the grace. */
  total: number;
  /** Live tasks this census already plans to stop; they still count in total until ECS stops them. */
  leaving: Set<string>;
  /** Per-task destructive actions: stop, cordon-stop, forget. */
  actions: Action[];
  /** Some claim's lease has passed (by the observer's clock; the script rechecks Redis TIME). */
  leaseExpired: boolean;
}

/** ECS still intends the task to run and it has not stopped. */
export function isLive(t: EcsTask): boolean {
  return t.desiredStatus === "RUNNING" && t.lastStatus !== "STOPPED";
}

/** drainReason (free text written by scripts) → the bounded StopReason label. */
const DRAIN_REASONS: readonly StopReason[] = [
  "excess",
  "released",
  "lease-expired",
  "never-registered",
  "old-revision",
  "over-cap",
  "orphan",
  "drain",
  "out-of-band",
];
function stopReason(drainReason: string | undefined): StopReason {
  return DRAIN_REASONS.find((r) => r === drainReason) ?? "drain";
}

export function takeCensus(observed: Observed, nowMs: number, timings: PlanTimings): Census {
  const ecsById = new Map<string, EcsTask>();
  for (const t of observed.ecs) ecsById.set(t.taskId, t);
  const c: Census = {
    warm: [],
    starting: [],
    expected: [],
    unrecorded: [],
    unaccounted: [],
    claimed: [],
    draining: [],
    total: 0,
    leaving: new Set(),
    actions: [],
    leaseExpired: false,
  };
  const recorded = new Set<string>();

  for (const r of observed.records) {
    if (recorded.has(r.taskId)) continue;
    recorded.add(r.taskId);
    const e = ecsById.get(r.taskId);
    const slot: Slot = { taskId: r.taskId, record: r };
    const arn = e?.taskArn ?? r.taskArn;
    if (arn !== undefined) slot.taskArn = arn;
    const revision = e?.taskDefinitionArn || r.revision;
    if (revision) slot.revision = revision;
    if (e) slot.ecs = e;

    if (r.state === "claimed" && r.leaseExpiresAtMs !== undefined && r.leaseExpiresAtMs < nowMs) {
      c.leaseExpired = true;
    }

    const youngAbsent = !e && nowMs - r.createdAtMs < timings.visibilityGraceMs;
    if (e?.lastStatus === "STOPPED" || (!e && !youngAbsent)) {
      c.actions.push({
        kind: "forget",
        taskId: r.taskId,
        reason: !e && r.state === "starting" ? "never-seen" : "gone-from-ecs",
      });
      continue;
    }
    if (e && !isLive(e)) {
      // ECS is stopping it and we did not ask (we cordon before we stop). Take it out of the
      // claimable set so no user is handed a dying task; StopTask again is harmless.
      // Not live, so not in total; a claimed or draining one is still reported in its state.
      if (r.state === "warm" || r.state === "starting") {
        c.actions.push(cordonStop(slot, "out-of-band"));
      } else if (r.state === "claimed") c.claimed.push(slot);
      else c.draining.push(slot);
      continue;
    }

    c.total++;
    switch (r.state) {
      case "starting":
        if (!e) c.expected.push(slot);
        else if (nowMs - r.createdAtMs > timings.registerTimeoutMs) {
          c.actions.push(cordonStop(slot, "never-registered"));
          c.leaving.add(r.taskId);
        } else c.starting.push(slot);
        break;
      case "warm":
        c.warm.push(slot);
        break;
      case "claimed":
        c.claimed.push(slot);
        break;
      case "draining":
        c.draining.push(slot);
        if (e) {
          c.actions.push({
            kind: "stop",
            taskId: r.taskId,
            taskArn: e.taskArn,
            reason: stopReason(r.drainReason),
          });
          c.leaving.add(r.taskId);
        }
        break;
    }
  }

  for (const e of ecsById.values()) {
    if (recorded.has(e.taskId) || !isLive(e)) continue;
    c.total++;
    const slot: Slot = { taskId: e.taskId, taskArn: e.taskArn, ecs: e, revision: e.taskDefinitionArn };
    if (observed.stateBornAtMs !== undefined && e.createdAtMs < observed.stateBornAtMs) {
      // Older than this Redis's pool state: its record went with a lost state, and it may be
      // serving a user. Never an orphan stop; on-call sees it counted as unaccounted.
      c.unaccounted.push(slot);
    } else if (nowMs - e.createdAtMs > timings.visibilityGraceMs) {
      // Started by the pool (the observer lists startedBy=<pool> only), yet no record and no
      // registration after the grace: a launch whose record write was lost. Never made warm.
      c.actions.push({ kind: "stop", taskId: e.taskId, taskArn: e.taskArn, reason: "orphan" });
      c.leaving.add(e.taskId);
    } else c.unrecorded.push(slot);
  }
  // Input order is the lister's, not ours: sort what we decided so equal worlds give equal plans.
  c.actions.sort((a, b) => byTaskId(idOf(a), idOf(b)));
  return c;
}

export function cordonStop(slot: Slot, reason: StopReason): Action {
  return slot.taskArn !== undefined
    ? { kind: "cordon-stop", taskId: slot.taskId, taskArn: slot.taskArn, reason }
    : { kind: "cordon-stop", taskId: slot.taskId, reason };
}

function idOf(a: Action): { taskId: string } {
  return { taskId: "taskId" in a ? a.taskId : "" };
}

function byTaskId(a: { taskId: string }, b: { taskId: string }): number {
  return a.taskId < b.taskId ? -1 : a.taskId > b.taskId ? 1 : 0;
}
