/**
 * `ctl status` with no `--pool` (or with `--all-pools`): every pool of the registry (`wp:pools`) at
 * a glance, one line each, from the same Redis ground truth and the same verdict as
 * `ctl status --pool P` (gatherStatus per pool: task records counted, leader lease and epoch, the
 * reconciler's last pass). The exit code is the most fundamental problem of any pool, so a probe
 * over the whole control plane works as it does for one pool.
 */
import type { Redis } from "ioredis";
import { PoolRegistry, type PoolEntry } from "../pools/index.js";
import { createContext, redisNowMs, type CtlContext } from "./context.js";
import { EXIT, type ExitCode } from "./errors.js";
import { duration, isoTime, percent } from "./format.js";
import { style, type CtlIO } from "./io.js";
import { gatherStatus, type StatusOptions, type StatusReport } from "./status-report.js";
import { renderTable } from "./table.js";

export interface PoolLine {
  pool: string;
  /** Registry lifecycle: a deleting pool is being drained to zero. */
  state: PoolEntry["state"];
  labels: Record<string, string>;
  /** The reconciler's warm target from its last pass; null before one. */
  target: number | null;
  warm: number;
  claimed: number;
  starting: number;
  draining: number;
  waiting: number;
  utilization: number;
  leader: { holder: string; epoch: number | null } | null;
  lastPassAgeMs: number | null;
  lastPassResult: string | null;
  health: StatusReport["health"];
}

export interface AllPoolsReport {
  atMs: number;
  pools: PoolLine[];
  /** Pools whose status could not be read (a pool key Redis refused, say), with why. */
  unreadable: { pool: string; error: string }[];
  health: { healthy: boolean; exitCode: ExitCode; unhealthy: number };
}

/** Pools read at once: enough to keep 50 pools quick, few enough not to flood Redis. */
const PARALLEL = 8;

export async function gatherAllPools(
  ctx: Pick<CtlContext, "redis" | "io" | "output">,
  opts: StatusOptions = {},
): Promise<AllPoolsReport> {
  const [entries, atMs] = await Promise.all([new PoolRegistry(ctx.redis).list(), redisNowMs(ctx.redis)]);
  const lines: (PoolLine | undefined)[] = new Array<PoolLine | undefined>(entries.length);
  const unreadable: AllPoolsReport["unreadable"] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let i = next++; i < entries.length; i = next++) {
      const e = entries[i]!;
      try {
        lines[i] = toLine(e, await gatherStatus(poolContext(ctx, e.name), opts));
      } catch (err) {
        unreadable.push({ pool: e.name, error: err instanceof Error ? err.message : String(err) });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL, entries.length) }, worker));
  const pools = lines.filter((l): l is PoolLine => l !== undefined);
  const codes = pools.filter((p) => !p.health.healthy).map((p) => p.health.exitCode);
  // Unreadable pools count as "ctl could not ask" (exit 3) unless a pool is unhealthy.
  const exitCode = (codes.sort((a, b) => a - b)[0] ??
    (unreadable.length > 0 ? EXIT.unreachable : EXIT.ok)) as ExitCode;
  return {
    atMs,
    pools,
    unreadable: unreadable.sort((a, b) => a.pool.localeCompare(b.pool)),
    health: { healthy: exitCode === EXIT.ok, exitCode, unhealthy: codes.length },
  };
}

function poolContext(ctx: Pick<CtlContext, "redis" | "io" | "output">, pool: string): CtlContext {
  return createContext({ redis: ctx.redis as Redis, pool, io: ctx.io, output: ctx.output });
}

function toLine(e: PoolEntry, r: StatusReport): PoolLine {
  return {
    pool: e.name,
    state: e.state,
    labels: e.labels,
    target: r.target,
    warm: r.actual.warm,
    claimed: r.actual.claimed,
    starting: r.actual.starting,
    draining: r.actual.draining,
    waiting: r.actual.waiting,
    utilization: r.utilization,
    leader: r.leader ? { holder: r.leader.holder, epoch: r.leader.epoch } : null,
    lastPassAgeMs: r.lastPassAgeMs,
    lastPassResult: r.snapshot?.lastPass?.result ?? null,
    health: r.health,
  };
}

export function renderAllPools(r: AllPoolsReport, io: Pick<CtlIO, "color" | "isTTY">): string {
  const st = style(io);
  const verdict = r.health.healthy
    ? st.green(st.bold("HEALTHY"))
    : st.red(st.bold(`UNHEALTHY (exit ${r.health.exitCode})`));
  const head = `${st.bold(`${r.pools.length} pool${r.pools.length === 1 ? "" : "s"}`)}  ${verdict}  ${st.dim(isoTime(r.atMs))}`;
  if (r.pools.length === 0 && r.unreadable.length === 0) {
    return `${head}\nno pools registered (ctl pool create --pool NAME); one pool's detail: ctl status --pool NAME\n`;
  }
  const rows = r.pools.map((p) => [
    p.state === "deleting" ? `${p.pool} (deleting)` : p.pool,
    p.target === null ? "-" : String(p.target),
    String(p.warm),
    String(p.claimed),
    String(p.starting),
    String(p.draining),
    String(p.waiting),
    percent(p.utilization),
    p.leader ? `${p.leader.holder}/${p.leader.epoch ?? "-"}` : st.red("none"),
    p.lastPassAgeMs === null
      ? st.red("never")
      : `${duration(p.lastPassAgeMs)}${p.lastPassResult && p.lastPassResult !== "ok" ? ` ${p.lastPassResult}` : ""}`,
    p.health.healthy
      ? st.green("ok")
      : st.red(`exit ${p.health.exitCode}: ${p.health.problems[0]?.message ?? ""}`),
  ]);
  for (const u of r.unreadable)
    rows.push([u.pool, "", "", "", "", "", "", "", "", "", st.red(`unreadable: ${u.error}`)]);
  const table = renderTable(
    io,
    [
      { header: "POOL" },
      { header: "TARGET", right: true },
      { header: "WARM", right: true },
      { header: "CLAIMED", right: true },
      { header: "STARTING", right: true },
      { header: "DRAINING", right: true },
      { header: "WAITING", right: true },
      { header: "UTIL", right: true },
      { header: "LEADER/EPOCH" },
      { header: "LAST PASS" },
      { header: "HEALTH" },
    ],
    rows,
  );
  return `${head}\n${table}${st.dim("one pool in detail: ctl status --pool NAME")}\n`;
}
