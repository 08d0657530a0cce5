/**
 * `ctl pool create | list | delete`: the registry of pools one control plane serves (pkg/pools).
 * Delete is drain-then-remove: the pool is marked deleting and its desired state set to zero
 * (through the audited compare-and-set), so its reconciler stops every idle task and each claimed
 * one once its session ends; a later `delete` (or `--wait`) removes the entry once no task record
 * is left. It is refused while claims are live, unless forced. The zeroed desired state and its
 * history stay, so a reconciler still pointed at the name starts nothing.
 */
import { PoolRegistry } from "../pools/index.js";
import { sleep } from "../util/index.js";
import { patchable, writeDesired, type WriteFlags } from "./config-write.js";
import { redisNowMs, type CtlContext } from "./context.js";
import { CtlError, EXIT, type ExitCode } from "./errors.js";
import { age } from "./format.js";
import { json } from "./io.js";
import { renderTable } from "./table.js";

export interface PoolDeleteFlags extends WriteFlags {
  force?: boolean;
  /** Wait up to this many seconds for the pool to drain, then remove it. */
  waitSeconds?: number;
  signal?: AbortSignal;
}

export async function poolCreate(ctx: CtlContext, labels: Record<string, string>): Promise<ExitCode> {
  const r = await new PoolRegistry(ctx.redis).create(ctx.pool, { labels, who: ctx.who });
  if (r === "exists") {
    throw new CtlError(`pool ${ctx.pool} is already registered (ctl pool list); nothing changed`);
  }
  ctx.io.out(
    ctx.output === "json"
      ? json({ pool: ctx.pool, created: true, labels })
      : `pool ${ctx.pool} registered; set its desired state with \`ctl config apply --pool ${ctx.pool}\` (defaults apply until then)\n`,
  );
  return EXIT.ok;
}

export async function poolList(ctx: Pick<CtlContext, "redis" | "io" | "output">): Promise<ExitCode> {
  const [pools, now] = await Promise.all([new PoolRegistry(ctx.redis).list(), redisNowMs(ctx.redis)]);
  if (ctx.output === "json") {
    ctx.io.out(json(pools));
    return EXIT.ok;
  }
  if (pools.length === 0) {
    ctx.io.out("no pools registered (ctl pool create --pool NAME)\n");
    return EXIT.ok;
  }
  ctx.io.out(
    renderTable(
      ctx.io,
      [
        { header: "POOL" },
        { header: "STATE" },
        { header: "LABELS" },
        { header: "AGE", right: true },
        { header: "BY" },
      ],
      pools.map((p) => [
        p.name,
        p.state,
        Object.entries(p.labels)
          .map(([k, v]) => `${k}=${v}`)
          .join(",") || "-",
        age(p.createdAt, now),
        p.state === "deleting" ? (p.deletingBy ?? "") : p.createdBy,
      ]),
    ),
  );
  return EXIT.ok;
}

/** Live (not yet expired) claims and task records of the pool: what deletion waits for. */
async function remaining(ctx: CtlContext): Promise<{ liveClaims: number; waiting: number; tasks: number }> {
  const now = await redisNowMs(ctx.redis);
  const [liveClaims, waiting, tasks] = await Promise.all([
    ctx.redis.zcount(ctx.keys.claims, now, "+inf"),
    ctx.redis.llen(ctx.keys.waiting),
    ctx.redis.scard(ctx.keys.tasks),
  ]);
  return { liveClaims, waiting, tasks };
}

export async function poolDelete(ctx: CtlContext, flags: PoolDeleteFlags): Promise<ExitCode> {
  const registry = new PoolRegistry(ctx.redis);
  const entry = await registry.get(ctx.pool);
  if (!entry) throw new CtlError(`pool ${ctx.pool} is not registered (ctl pool list); nothing changed`);
  const left = await remaining(ctx);
  if (entry.state !== "deleting" && left.liveClaims + left.waiting > 0 && flags.force !== true) {
    throw new CtlError(
      `pool ${ctx.pool} has ${left.liveClaims} live and ${left.waiting} queued claim(s); refused (nothing changed). ` +
        "--force drains it anyway: claimed tasks end with their sessions, never earlier",
    );
  }
  if (flags.dryRun) {
    ctx.io.out(
      `would mark pool ${ctx.pool} deleting and set minWarm=maxWarm=replenishThreshold=0; ` +
        `${left.tasks} task record(s) to drain\n`,
    );
    return EXIT.ok;
  }
  if (entry.state !== "deleting") {
    const code = await zeroDesired(ctx, flags);
    if (code !== EXIT.ok) return code;
    await registry.markDeleting(ctx.pool, ctx.who);
  }
  const deadline = Date.now() + Math.max(0, flags.waitSeconds ?? 0) * 1000;
  for (;;) {
    const now = await remaining(ctx);
    if (now.tasks === 0 && now.liveClaims === 0 && now.waiting === 0) {
      await registry.remove(ctx.pool);
      ctx.io.out(
        ctx.output === "json" ? json({ pool: ctx.pool, removed: true }) : `pool ${ctx.pool} removed\n`,
      );
      return EXIT.ok;
    }
    if (Date.now() >= deadline || flags.signal?.aborted) {
      ctx.io.out(
        ctx.output === "json"
          ? json({ pool: ctx.pool, removed: false, ...now })
          : `pool ${ctx.pool} is draining: ${now.tasks} task record(s), ${now.liveClaims} live claim(s) left; ` +
              "run `ctl pool delete` again (or with --wait SECONDS) to remove it once empty\n",
      );
      return EXIT.ok;
    }
    await sleep(1_000, flags.signal).catch(() => undefined);
  }
}

async function zeroDesired(ctx: CtlContext, flags: WriteFlags): Promise<ExitCode> {
  const read = await ctx.config.read();
  const base = patchable(read, "pool delete");
  if ("error" in base) throw new CtlError(base.error);
  if (base.minWarm === 0 && base.maxWarm === 0 && base.replenishThreshold === 0) return EXIT.ok;
  return writeDesired(ctx, {
    ...flags,
    read,
    next: { ...base, minWarm: 0, maxWarm: 0, replenishThreshold: 0 },
    action: "ctl pool delete",
  });
}
