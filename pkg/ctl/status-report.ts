/**
 * Everything `ctl status` knows about a pool, gathered from Redis alone: the reconciler's last
 * published snapshot (target, last pass, errors, ASG), the leader lease, the desired state as
 * the key holds it, and the task records themselves (fresher than any snapshot). `assessHealth`
 * turns it into the verdict and exit code a probe relies on; it is pure.
 */
import { DEFAULT_DESIRED, type ConfigError, type DesiredState } from "../config/index.js";
import type { StatusSnapshot } from "../reconciler/index.js";
import { redisNowMs, type CtlContext } from "./context.js";
import { drainProgress, readDrainRequest, type DrainRequest } from "./drain-request.js";
import { EXIT, type ExitCode } from "./errors.js";
import { readTasks, type TaskRow } from "./pool-read.js";
import { observeWarnings } from "./status-observe.js";
import { revisionMatches } from "./revision.js";

export interface RevisionCount {
  revision: string;
  /** The revision new tasks are launched with. */
  target: boolean;
  starting: number;
  warm: number;
  claimed: number;
  draining: number;
}

export interface StatusReport {
  pool: string;
  /** Redis TIME when read. */
  atMs: number;
  leader: { holder: string; ttlMs: number; epoch: number | null } | null;
  /** The reconciler's published snapshot, as is (null when none was ever published). */
  snapshot: StatusSnapshot | null;
  /** Age of the snapshot (time since the last finished pass). */
  lastPassAgeMs: number | null;
  desired: {
    /** What the `config` key holds. */
    key: "valid" | "invalid" | "missing";
    /** The desired state in force: the key's, else the reconciler's last good, else the defaults. */
    inForce: DesiredState;
    errors: ConfigError[];
    lastRejection: { atMs?: number; who?: string; message: string } | null;
  };
  target: number | null;
  actual: {
    starting: number;
    warm: number;
    claimed: number;
    draining: number;
    waiting: number;
    /** Records only (what Redis holds). */
    total: number;
    /**
     * Live in ECS, started before the pool's state in this Redis began, with no record (Redis lost
     * its data): the reconciler's count from its last pass; never stopped by it.
     */
    unaccounted: number;
  };
  /** claimed / (starting + warm + claimed). */
  utilization: number;
  revisions: RevisionCount[];
  drain: (DrainRequest & { idleLeft: number; claimedLeft: number }) | null;
  errors: { atMs: number; message: string }[];
  /** The ASG and its warm pool, when the reconciler publishes them. */
  asg: unknown;
  health: Health;
}

export interface Health {
  healthy: boolean;
  exitCode: ExitCode;
  problems: { code: ExitCode; message: string }[];
  /** Worth knowing, not unhealthy: paused, last pass partial, idle below threshold, rollout running. */
  warnings: string[];
}

export interface StatusOptions {
  /** A pass older than this makes the pool unhealthy (default 60 s). */
  staleAfterMs?: number;
}

export const DEFAULT_STALE_AFTER_MS = 60_000;

export async function gatherStatus(ctx: CtlContext, opts: StatusOptions = {}): Promise<StatusReport> {
  const { redis, keys } = ctx;
  const [holder, ttl, epoch, rawSnapshot, read, tasks, waiting, drain, atMs] = await Promise.all([
    redis.get(keys.leader),
    redis.pttl(keys.leader),
    redis.get(keys.epoch),
    redis.get(keys.status),
    ctx.config.read(),
    readTasks(redis, keys),
    redis.llen(keys.waiting),
    readDrainRequest(redis, keys),
    redisNowMs(redis),
  ]);
  const snapshot = parseSnapshot(rawSnapshot);
  const history = await ctx.config.history(50);
  // Valid by the schema, yet refused by the reconciler when it checked it against ECS (a task
  // definition ECS does not have): the newest history entry about this very value says so.
  const about = read.state === "valid" ? history.find((e) => e.after === read.raw) : undefined;
  const refused = about?.result === "rejected";
  const keyState: StatusReport["desired"]["key"] = refused ? "invalid" : read.state;
  const keyErrors = read.state === "invalid" ? read.errors : refused ? (about?.errors ?? []) : [];
  let inForce: DesiredState;
  if (read.state === "valid" && !refused) inForce = read.value;
  else if (read.state === "missing") inForce = DEFAULT_DESIRED;
  else inForce = snapshot?.desired ?? (await ctx.config.lastAccepted())?.value ?? DEFAULT_DESIRED;

  const rejected = history.find((e) => e.result === "rejected");
  let lastRejection: StatusReport["desired"]["lastRejection"] = null;
  if (rejected) {
    const message = (rejected.errors ?? []).map((e) => `${e.message} [${e.rule}]`).join("; ") || "rejected";
    lastRejection = { atMs: rejected.atMs, message, ...(rejected.who ? { who: rejected.who } : {}) };
  } else if (snapshot?.config.lastRejection) {
    lastRejection = { message: snapshot.config.lastRejection };
  }

  const snapshotCounts = (snapshot as { counts?: { unaccounted?: unknown } } | null)?.counts;
  const unaccounted = Number(snapshotCounts?.unaccounted ?? 0) || 0;
  const actual = { starting: 0, warm: 0, claimed: 0, draining: 0, waiting, total: 0, unaccounted };
  for (const t of tasks) {
    if (t.state === "starting" || t.state === "warm" || t.state === "claimed" || t.state === "draining") {
      actual[t.state as "starting" | "warm" | "claimed" | "draining"]++;
      actual.total++;
    }
  }
  const live = actual.starting + actual.warm + actual.claimed;
  const drainLeft = drain ? drainProgress(drain, tasks) : null;
  const report: StatusReport = {
    pool: ctx.pool,
    atMs,
    leader:
      holder === null
        ? null
        : { holder, ttlMs: Math.max(0, ttl), epoch: epoch === null ? null : Number(epoch) },
    snapshot,
    lastPassAgeMs: snapshot && snapshot.updatedAtMs > 0 ? Math.max(0, atMs - snapshot.updatedAtMs) : null,
    desired: {
      key: keyState,
      inForce,
      errors: keyErrors,
      lastRejection,
    },
    target: snapshot?.target ?? null,
    actual,
    utilization: live > 0 ? actual.claimed / live : 0,
    revisions: countRevisions(tasks, targetRevision(snapshot, inForce, tasks)),
    drain: drain && drainLeft ? { ...drain, idleLeft: drainLeft.idle, claimedLeft: drainLeft.claimed } : null,
    errors: snapshot?.lastErrors ?? [],
    asg: (snapshot as { asg?: unknown } | null)?.asg ?? null,
    health: { healthy: true, exitCode: EXIT.ok, problems: [], warnings: [] },
  };
  report.health = assessHealth(report, opts.staleAfterMs ?? DEFAULT_STALE_AFTER_MS);
  return report;
}

/** The verdict: every problem found, the exit code of the most fundamental one. */
export function assessHealth(
  r: Omit<StatusReport, "health">,
  staleAfterMs: number = DEFAULT_STALE_AFTER_MS,
): Health {
  const problems: Health["problems"] = [];
  const warnings: string[] = [];
  if (!r.leader) problems.push({ code: EXIT.noLeader, message: "no reconciler holds the leader lease" });
  if (r.lastPassAgeMs === null) {
    problems.push({ code: EXIT.stalePass, message: "the reconciler has never published a pass" });
  } else if (r.lastPassAgeMs > staleAfterMs) {
    problems.push({
      code: EXIT.stalePass,
      message: `the last pass is ${Math.round(r.lastPassAgeMs / 1000)}s old (stale after ${Math.round(staleAfterMs / 1000)}s)`,
    });
  }
  // Passes that complete but fail (ECS calls denied, a partial observation every time) keep the
  // snapshot fresh: a pool no pass has maintained for that long is as unhealthy as a stale one.
  const failingSince = r.snapshot?.failingSinceMs;
  const pass = r.snapshot?.lastPass;
  const lastPassFailed = pass?.result === "error" || pass?.result === "partial";
  if (r.lastPassAgeMs !== null && r.lastPassAgeMs <= staleAfterMs && lastPassFailed && failingSince) {
    const forMs = r.atMs - failingSince;
    if (forMs > staleAfterMs) {
      problems.push({
        code: EXIT.stalePass,
        message: `no pass has succeeded for ${Math.round(forMs / 1000)}s (stale after ${Math.round(staleAfterMs / 1000)}s): the last ended ${pass?.result}: ${pass?.reason ?? ""}`,
      });
    }
  }
  if (r.desired.key === "invalid") {
    problems.push({
      code: EXIT.invalidDesired,
      message: `the config key holds an invalid desired state (the last good one is in force): ${r.desired.errors.map((e) => e.field).join(", ")}`,
    });
  }
  if (r.actual.warm === 0 && r.actual.waiting > 0) {
    problems.push({
      code: EXIT.exhausted,
      message: `pool exhausted: no warm task and ${r.actual.waiting} claim(s) waiting`,
    });
  }
  if (r.desired.inForce.paused) warnings.push("paused: the reconciler observes and acts on nothing");
  if (pass && pass.result !== "ok") warnings.push(`last pass ${pass.result}: ${pass.reason}`);
  // Between replenishThreshold and minWarm the refill waits for the resync by design; below the
  // threshold it should already be under way, so a pool that stays there is worth a look.
  const idle = r.actual.warm + r.actual.starting;
  if (idle < r.desired.inForce.replenishThreshold && r.actual.waiting === 0) {
    warnings.push(
      `below replenishThreshold: ${idle} idle (warm + starting) < ${r.desired.inForce.replenishThreshold}`,
    );
  }
  const old = r.revisions.filter((v) => !v.target);
  if (r.revisions.some((v) => v.target) && old.some((v) => v.warm + v.starting > 0)) {
    warnings.push("rollout in progress: warm tasks of an old revision remain");
  }
  if (r.actual.unaccounted > 0) {
    warnings.push(
      `${r.actual.unaccounted} live task(s) have no record: they started before this Redis state ` +
        "began (Redis lost its data?); held, never stopped by the reconciler; see docs/reliability.md",
    );
  }
  warnings.push(...observeWarnings(r.snapshot?.observe, r.atMs));
  if (r.drain && r.drain.idleLeft > 0)
    warnings.push(`drain in progress: ${r.drain.idleLeft} idle task(s) left`);
  problems.sort((a, b) => a.code - b.code);
  return {
    healthy: problems.length === 0,
    exitCode: problems[0]?.code ?? EXIT.ok,
    problems,
    warnings,
  };
}

function parseSnapshot(raw: string | null): StatusSnapshot | null {
  if (raw === null) return null;
  try {
    const v = JSON.parse(raw) as StatusSnapshot;
    return typeof v === "object" && v !== null ? v : null;
  } catch {
    return null;
  }
}

/**
 * The revision new tasks run: the one the reconciler resolved (when its snapshot says), else the
 * newest revision matching desired `taskDefinition`, else that of the newest task.
 */
function targetRevision(s: StatusSnapshot | null, d: DesiredState, tasks: TaskRow[]): string | undefined {
  const published = (s as { revision?: unknown } | null)?.revision;
  if (typeof published === "string" && published) return published;
  const newestFirst = [...tasks].sort((a, b) => (b.createdAtMs ?? 0) - (a.createdAtMs ?? 0));
  if (d.taskDefinition) {
    const m = newestFirst.find((t) => revisionMatches(d.taskDefinition!, t.revision));
    if (m?.revision) return m.revision;
  }
  return newestFirst.find((t) => t.revision)?.revision;
}

function countRevisions(tasks: TaskRow[], target: string | undefined): RevisionCount[] {
  const by = new Map<string, RevisionCount>();
  for (const t of tasks) {
    const rev = t.revision ?? "(unknown)";
    let c = by.get(rev);
    if (!c) {
      c = { revision: rev, target: rev === target, starting: 0, warm: 0, claimed: 0, draining: 0 };
      by.set(rev, c);
    }
    if (t.state === "starting" || t.state === "warm" || t.state === "claimed" || t.state === "draining") {
      c[t.state]++;
    }
  }
  return [...by.values()].sort(
    (a, b) => Number(b.target) - Number(a.target) || a.revision.localeCompare(b.revision),
  );
}
