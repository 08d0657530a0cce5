/**
 * `ctl claims list | release ID`. Release goes through the claim protocol's own script (the
 * gateway's path): the claim ends, its task drains and is stopped, never returned to the pool.
 */
import { ClaimService, InvalidClaimInput } from "../claims/index.js";
import { redisNowMs, type CtlContext } from "./context.js";
import { CtlError, EXIT, type ExitCode } from "./errors.js";
import { age, duration } from "./format.js";
import { json, style } from "./io.js";
import { readClaims } from "./pool-read.js";
import { renderTable } from "./table.js";

export async function claimsList(ctx: CtlContext): Promise<ExitCode> {
  const [rows, now] = await Promise.all([readClaims(ctx.redis, ctx.keys), redisNowMs(ctx.redis)]);
  if (ctx.output === "json") {
    ctx.io.out(json(rows));
    return EXIT.ok;
  }
  if (rows.length === 0) {
    ctx.io.out(`no live claims in pool ${ctx.pool}\n`);
    return EXIT.ok;
  }
  const st = style(ctx.io);
  ctx.io.out(
    renderTable(
      ctx.io,
      [
        { header: "CLAIM" },
        { header: "STATE" },
        { header: "USER" },
        { header: "TASK" },
        { header: "AGE", right: true },
        { header: "LEASE LEFT", right: true },
        { header: "QUEUE", right: true },
      ],
      rows.map((c) => [
        c.claimId,
        c.state === "waiting" ? st.yellow(c.state) : c.state,
        c.userId ?? "",
        c.taskId ?? "",
        age(c.createdAtMs, now),
        c.leaseExpiresAtMs === undefined
          ? ""
          : c.leaseExpiresAtMs < now
            ? st.red(`expired ${duration(now - c.leaseExpiresAtMs)} ago`)
            : duration(c.leaseExpiresAtMs - now),
        c.queuePosition === undefined ? "" : `#${c.queuePosition}`,
      ]),
    ),
  );
  return EXIT.ok;
}

export async function claimsRelease(ctx: CtlContext, claimId: string, reason?: string): Promise<ExitCode> {
  // The subscriber is never started: release needs no notices, so no second connection is opened.
  const svc = new ClaimService({ pool: ctx.pool, redis: ctx.redis, subscriber: ctx.redis });
  let r;
  try {
    r = await svc.release(
      claimId,
      `released by ${ctx.who} via ctl${reason?.trim() ? `: ${reason.trim()}` : ""}`,
    );
  } catch (e) {
    if (e instanceof InvalidClaimInput)
      throw new CtlError(`claim id: ${e.rule} (got ${JSON.stringify(claimId)}); nothing changed`);
    throw e;
  } finally {
    await svc.close();
  }
  const out = (o: object, text: string): void => ctx.io.out(ctx.output === "json" ? json(o) : `${text}\n`);
  switch (r.outcome) {
    case "released":
      out(
        { released: true, claimId, taskId: r.taskId ?? null },
        r.taskId
          ? `released claim ${claimId}; task ${r.taskId} drains and is stopped (never reused)`
          : `released waiting claim ${claimId} (it held no task)`,
      );
      return EXIT.ok;
    case "already-ended":
      out(
        { released: false, claimId, state: r.state },
        `claim ${claimId} had already ended (${r.state}); nothing changed`,
      );
      return EXIT.ok;
    default:
      throw new CtlError(
        `no claim ${claimId} in pool ${ctx.pool} (see \`ctl claims list\`); nothing changed`,
      );
  }
}
