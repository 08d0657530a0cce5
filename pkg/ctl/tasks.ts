/** `ctl tasks`: every task record of the pool with its state, revision, ages and holder. */
import { redisNowMs, type CtlContext } from "./context.js";
import { CtlError, EXIT, type ExitCode } from "./errors.js";
import { age, shortRevision } from "./format.js";
import { json, style } from "./io.js";
import { readTasks } from "./pool-read.js";
import { renderTable } from "./table.js";

export const TASK_STATES = ["starting", "warm", "claimed", "draining"] as const;

export async function tasksCommand(ctx: CtlContext, o: { state?: string } = {}): Promise<ExitCode> {
  if (o.state !== undefined && !(TASK_STATES as readonly string[]).includes(o.state)) {
    throw new CtlError(`--state: must be one of ${TASK_STATES.join(", ")} (got ${JSON.stringify(o.state)})`);
  }
  const [all, now] = await Promise.all([readTasks(ctx.redis, ctx.keys), redisNowMs(ctx.redis)]);
  const rows = o.state ? all.filter((t) => t.state === o.state) : all;
  if (ctx.output === "json") {
    ctx.io.out(json(rows));
    return EXIT.ok;
  }
  if (rows.length === 0) {
    ctx.io.out(`no tasks${o.state ? ` in state ${o.state}` : ""} in pool ${ctx.pool}\n`);
    return EXIT.ok;
  }
  const st = style(ctx.io);
  const colour: Record<string, (s: string) => string> = {
    warm: st.green,
    starting: st.cyan,
    claimed: st.yellow,
    draining: st.dim,
  };
  ctx.io.out(
    renderTable(
      ctx.io,
      [
        { header: "TASK" },
        { header: "STATE" },
        { header: "REVISION" },
        { header: "AGE", right: true },
        { header: "WARM FOR", right: true },
        { header: "USER" },
        { header: "CLAIM" },
        { header: "DRAIN REASON" },
      ],
      rows.map((t) => [
        t.taskId,
        (colour[t.state] ?? ((s: string) => s))(t.state),
        shortRevision(t.revision),
        age(t.createdAtMs ?? t.warmAtMs, now),
        t.state === "warm" ? age(t.warmAtMs, now) : "",
        t.userId ?? "",
        t.claimId ?? "",
        t.drainReason ?? "",
      ]),
    ),
  );
  const counts = TASK_STATES.map((s) => `${all.filter((t) => t.state === s).length} ${s}`).join(", ");
  ctx.io.out(st.dim(`${rows.length} shown; pool ${ctx.pool}: ${counts}\n`));
  return EXIT.ok;
}
