/**
 * `ctl drain [--revision X]`: asks the reconciler to replace idle tasks created before now (of
 * revision X, when named) surge-first, as a rollout would, leaving claimed ones to finish their
 * sessions. The request goes to the pool's `drain` key with a `config` event in one MULTI, so
 * the reconciler wakes at once. A request that matches no idle task is refused (a typo in X).
 */
import { EVENTS_MAXLEN } from "../claims/index.js";
import { redisNowMs, type CtlContext } from "./context.js";
import { drainProgress, readDrainRequest, type DrainRequest } from "./drain-request.js";
import { CtlError, EXIT, type ExitCode } from "./errors.js";
import { isoTime, shortRevision } from "./format.js";
import { json, style } from "./io.js";
import { readTasks } from "./pool-read.js";
import { isRevisionName } from "./revision.js";
import type { WriteFlags } from "./config-write.js";

export async function drainCommand(
  ctx: CtlContext,
  o: WriteFlags & { revision?: string },
): Promise<ExitCode> {
  if (o.revision !== undefined && !isRevisionName(o.revision)) {
    throw new CtlError(
      `--revision: must be family, family:revision or arn:aws:ecs:<region>:<account>:task-definition/<family>:<revision> (got ${JSON.stringify(o.revision)}); nothing written`,
    );
  }
  const [tasks, beforeMs] = await Promise.all([readTasks(ctx.redis, ctx.keys), redisNowMs(ctx.redis)]);
  const req: DrainRequest = {
    ...(o.revision !== undefined ? { revision: o.revision } : {}),
    beforeMs,
    by: ctx.who,
    reason: o.reason?.trim() || "ctl drain",
  };
  const left = drainProgress(req, tasks);
  if (left.idle === 0) {
    const revs = [...new Set(tasks.map((t) => shortRevision(t.revision)))].join(", ") || "none";
    throw new CtlError(
      `drain: no warm or starting task${o.revision ? ` of revision ${o.revision}` : ""} to replace (revisions in the pool: ${revs}); nothing written`,
    );
  }
  const st = style(ctx.io);
  const what = o.revision ? `of revision ${o.revision}` : "of every revision";
  if (ctx.output === "text") {
    ctx.io.out(
      `drain pool ${ctx.pool}: ${left.idle} warm/starting task(s) ${what} created before ${isoTime(beforeMs)} will be replaced surge-first; ${left.claimed} claimed task(s) finish their sessions untouched\n`,
    );
  }
  if (o.dryRun) {
    if (ctx.output === "text") ctx.io.out(st.yellow("dry run: nothing written\n"));
    else
      ctx.io.out(
        json({ written: false, reason: "dry-run", request: req, idle: left.idle, claimed: left.claimed }),
      );
    return EXIT.ok;
  }
  if (!o.yes && ctx.io.confirm && !(await ctx.io.confirm("request this drain?"))) {
    ctx.io.err("aborted: nothing written\n");
    return EXIT.refused;
  }
  const previous = await readDrainRequest(ctx.redis, ctx.keys);
  await ctx.redis
    .multi()
    .set(ctx.keys.drain, JSON.stringify(req))
    .xadd(
      ctx.keys.events,
      "MAXLEN",
      "~",
      EVENTS_MAXLEN,
      "*",
      "type",
      "config",
      "reason",
      "drain",
      "by",
      req.by,
    )
    .exec();
  if (ctx.output === "text") {
    if (previous)
      ctx.io.out(st.dim(`(replaces the request of ${isoTime(previous.beforeMs)} by ${previous.by})\n`));
    ctx.io.out(st.green("drain requested; follow it with `warmpool ctl status --watch`\n"));
  } else ctx.io.out(json({ written: true, request: req, idle: left.idle, claimed: left.claimed }));
  return EXIT.ok;
}

/** `ctl drain --cancel`: removes the request; tasks already replaced stay replaced. */
export async function cancelDrain(ctx: CtlContext): Promise<ExitCode> {
  const n = await ctx.redis
    .multi()
    .del(ctx.keys.drain)
    .xadd(ctx.keys.events, "MAXLEN", "~", EVENTS_MAXLEN, "*", "type", "config", "reason", "drain-cancel")
    .exec();
  const removed = Number(n?.[0]?.[1] ?? 0) > 0;
  if (ctx.output === "json") ctx.io.out(json({ cancelled: removed }));
  else ctx.io.out(removed ? "drain request removed\n" : "no drain request to cancel\n");
  return EXIT.ok;
}
