import { capacityReasonOfError } from "../capacity/index.js";
import type { EcsDriver } from "../ecs/index.js";
import { launchTasks } from "../ecs/index.js";
import type { Logger } from "../log/index.js";
import type { Metrics } from "../metrics/index.js";
import type { Action, EcsTask, TaskRecord } from "../plan/index.js";
import type { PoolState } from "./ports.js";

export interface ActContext {
  pool: string;
  store: PoolState;
  ecs: Pick<EcsDriver, "runTask" | "stopTask">;
  metrics?: Metrics;
  log: Logger;
  /** Throws when this process may no longer act (lease lost, shutdown). Checked before every call. */
  assertMayAct: () => void;
  /** ARNs for task ids, from this pass's observation. */
  arnOf: (taskId: string) => string | undefined;
  /**
   * Tasks ECS started, told the moment RunTask answers (before they are recorded, and even when
   * the pass is then abandoned): the task cache's launch expectations.
   */
  onLaunched?: (tasks: EcsTask[]) => void;
}

export interface ActOutcome {
  launched: EcsTask[];
  runFailures: { reason: string }[];
  stopped: number;
  /** Task ids StopTask accepted (the cache expects them stopped). */
  stoppedIds: string[];
  /** Cordons refused because the task was claimed in between: left running, as they must be. */
  cordonRefused: number;
  forgotten: number;
  expired: number;
  errors: string[];
  /** The pass issued RunTask (for backoff bookkeeping). */
  ranAt?: number;
}

/**
 * Carries out a plan through the rate-limited driver and the pool's atomic scripts. Launches and
 * stops proceed side by side (a claim that emptied the pool should not wait behind a drain);
 * every launch is recorded in Redis as soon as its RunTask returns, before the next batch goes
 * out, and every idle task is cordoned before it is stopped — stopped only if the cordon won.
 */
export async function act(ctx: ActContext, actions: Action[]): Promise<ActOutcome> {
  const out: ActOutcome = {
    launched: [],
    runFailures: [],
    stopped: 0,
    stoppedIds: [],
    cordonRefused: 0,
    forgotten: 0,
    expired: 0,
    errors: [],
  };
  const count = (action: string, reason: string, n = 1): void =>
    ctx.metrics?.actionsTotal.inc({ pool: ctx.pool, action, reason }, n);
  const fail = (what: string, err: unknown): void => {
    // Lease lost, shutdown, or a write fenced off by a newer term: the whole pass stops here.
    if (isStopSignal(err)) throw err;
    const msg = `${what}: ${err instanceof Error ? err.message : String(err)}`;
    out.errors.push(msg);
    ctx.log.warn({ err: errText(err) }, what);
  };

  const runs = actions.filter((a): a is Extract<Action, { kind: "run" }> => a.kind === "run");
  const others = actions.filter((a) => a.kind !== "run");

  const launching = (async () => {
    for (const a of runs) {
      ctx.assertMayAct();
      out.ranAt = Date.now();
      const r = await launchTasks(
        ctx.ecs,
        a.count,
        a.revision,
        async (tasks) => {
          ctx.onLaunched?.(tasks);
          await recordLaunches(
            ctx,
            tasks.map((t) => ({
              taskId: t.taskId,
              taskArn: t.taskArn,
              revision: t.taskDefinitionArn || a.revision,
            })),
          );
        },
        () => {
          ctx.assertMayAct();
          return true;
        },
      );
      out.launched.push(...r.tasks);
      out.runFailures.push(...r.failures);
      count("run", a.reason, r.tasks.length);
      for (const e of r.errors) {
        fail(`launching ${a.count} task(s)`, e);
        // A thrown "No Container Instances" is a capacity failure like RunTask's RESOURCE:* answers.
        const reason = capacityReasonOfError(e);
        if (reason) {
          out.runFailures.push({ reason });
          ctx.metrics?.runTaskFailuresTotal.inc({ pool: ctx.pool, reason });
        }
      }
      if (r.failures.length > 0) {
        ctx.log.warn(
          { failures: r.failures.slice(0, 5) },
          `RunTask reported ${r.failures.length} failure(s)`,
        );
      }
      const stop = r.errors.find(isStopSignal);
      if (stop) throw stop;
    }
  })();

  const stopping = (async () => {
    const stops: Promise<void>[] = [];
    for (const a of others) {
      ctx.assertMayAct();
      switch (a.kind) {
        case "expire-claims":
          try {
            const ids = await ctx.store.expireLeases();
            out.expired += ids.length;
            if (ids.length) count("expire", "lease-expired", ids.length);
            ctx.metrics?.leaseExpiriesTotal.inc({ pool: ctx.pool }, ids.length);
          } catch (err) {
            fail("expiring claim leases", err);
          }
          break;
        case "forget":
          try {
            await ctx.store.forget(a.taskId);
            out.forgotten++;
            count("forget", a.reason);
          } catch (err) {
            fail(`forgetting task ${a.taskId}`, err);
          }
          break;
        case "cordon-stop":
        case "stop": {
          const arn = a.taskArn ?? ctx.arnOf(a.taskId);
          if (a.kind === "cordon-stop") {
            let won: boolean;
            try {
              won = await ctx.store.cordon(a.taskId, a.reason);
            } catch (err) {
              fail(`cordoning task ${a.taskId}`, err);
              break;
            }
            if (!won) {
              // Claimed between observation and now: a live session, never stopped by this path.
              out.cordonRefused++;
              count("cordon-refused", a.reason);
              break;
            }
            count("cordon", a.reason);
          }
          if (a.kind === "stop" && a.reason === "orphan" && arn) {
            // No record: write a draining one first, so the bridge cannot register it now and hand
            // it to a claim that this stop would then end under its user.
            let marked: boolean;
            try {
              marked = await ctx.store.markOrphan(a.taskId, arn);
            } catch (err) {
              fail(`marking orphan task ${a.taskId}`, err);
              break;
            }
            if (!marked) {
              out.cordonRefused++;
              count("cordon-refused", a.reason);
              break;
            }
          }
          if (!arn) break; // draining now; stopped by a later pass once ECS lists it
          ctx.assertMayAct();
          stops.push(
            ctx.ecs.stopTask(arn, `warmpool: ${a.reason}`).then(
              () => {
                out.stopped++;
                out.stoppedIds.push(a.taskId);
                count("stop", a.reason);
              },
              (err: unknown) => fail(`stopping task ${a.taskId}`, err),
            ),
          );
          break;
        }
      }
    }
    await Promise.all(stops);
  })();

  const settled = await Promise.allSettled([launching, stopping]);
  for (const s of settled) if (s.status === "rejected") throw s.reason;
  return out;
}

/**
 * Records launches as `starting`. ECS started them whatever happened to the lease while RunTask
 * was in flight: when the fenced write is refused (the lease lapsed, or a newer term began), the
 * record is written unfenced before the refusal ends the pass. Without it the next term (its task
 * cache empty until its first relist) saw one task too few, launched another, and stopped one as
 * excess once the first registered. A record never overwrites one (HSETNX), so it cannot undo
 * another term's decision; a task already stopped by then is forgotten as usual.
 */
async function recordLaunches(
  ctx: ActContext,
  launches: { taskId: string; taskArn: string; revision: string }[],
): Promise<void> {
  try {
    await ctx.store.recordLaunches(launches);
  } catch (err) {
    if ((err as Error).name !== "FencedError") throw err;
    await ctx.store.recordLaunches(launches, { fenced: false }).catch((e: unknown) => {
      ctx.log.warn({ err: errText(e), tasks: launches.map((l) => l.taskId) }, "recording launches failed");
    });
    throw err;
  }
}

/** Errors that end a pass rather than one action: lease lost, shutdown, a fenced write. */
export function isStopSignal(err: unknown): boolean {
  const name = (err as Error | undefined)?.name;
  return name === "LeaseLostError" || name === "AbortError" || name === "FencedError";
}

function errText(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = err.cause instanceof Error ? `: ${err.cause.message}` : "";
  return `${err.message}${cause}`;
}

/** Oldest warm (idle) task age, for the dashboard's staleness panel. */
export function oldestIdleSeconds(records: TaskRecord[], nowMs: number): number {
  let oldest = Infinity;
  for (const r of records)
    if (r.state === "warm" && r.warmAtMs !== undefined) oldest = Math.min(oldest, r.warmAtMs);
  return oldest === Infinity ? 0 : Math.max(0, (nowMs - oldest) / 1000);
}
