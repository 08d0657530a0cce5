/**
 * `ctl status` as a person reads it: verdict first, then leader and last pass, desired state,
 * desired vs actual counts, tasks by revision (rollout progress), a drain in progress, the ASG
 * warm pool, recent errors. The same text in a TTY (coloured) and piped (plain).
 */
import type { DesiredState } from "../config/index.js";
import { age, duration, isoTime, percent, shortRevision } from "./format.js";
import { style, type CtlIO } from "./io.js";
import type { StatusReport } from "./status-report.js";
import { describeObserve } from "./status-observe.js";
import { renderTable } from "./table.js";

export function renderStatus(r: StatusReport, io: Pick<CtlIO, "color" | "isTTY" | "columns">): string {
  const st = style(io);
  const out: string[] = [];
  const h = r.health;
  const verdict = h.healthy
    ? st.green(st.bold("HEALTHY"))
    : st.red(st.bold(`UNHEALTHY (exit ${h.exitCode})`));
  out.push(`${st.bold(`pool ${r.pool}`)}  ${verdict}  ${st.dim(isoTime(r.atMs))}`);
  for (const p of h.problems) out.push(`  ${st.red("✗")} ${p.message}`);
  for (const w of h.warnings) out.push(`  ${st.yellow("!")} ${w}`);
  out.push("");

  if (r.leader) {
    const epoch = r.leader.epoch === null ? "" : `  epoch ${r.leader.epoch}`;
    out.push(`leader     ${r.leader.holder}${epoch}  ${st.dim(`lease ${duration(r.leader.ttlMs)} left`)}`);
  } else out.push(`leader     ${st.red("none")}`);
  const pass = r.snapshot?.lastPass;
  if (pass && r.lastPassAgeMs !== null) {
    const res = pass.result === "ok" ? st.green(pass.result) : st.yellow(pass.result);
    out.push(
      `last pass  ${duration(r.lastPassAgeMs)} ago  #${pass.id} ${res} (${pass.trigger}, ${pass.durationMs}ms)`,
    );
    // The planner's reason is long; a terminal gets one line of it, a pipe all of it.
    const width = io.isTTY ? Math.max(40, io.columns - 12) : Infinity;
    out.push(`           ${st.dim(truncate(pass.reason, width))}`);
  } else out.push(`last pass  ${st.red("never")}`);
  for (const [i, line] of describeObserve(r.snapshot?.observe, r.atMs).entries())
    out.push(`${i === 0 ? "observe    " : "           "}${i === 0 ? line : st.dim(line)}`);

  const keyState =
    r.desired.key === "valid"
      ? st.green("valid")
      : r.desired.key === "missing"
        ? st.yellow("missing (defaults in force)")
        : st.red("INVALID (last good in force)");
  out.push(`desired    ${keyState}`);
  out.push(`           ${describeDesired(r.desired.inForce)}`);
  for (const e of r.desired.errors) out.push(`           ${st.red(e.message)} [${e.rule}]`);
  const rej = r.desired.lastRejection;
  if (rej) {
    const when = rej.atMs ? `${age(rej.atMs, r.atMs)} ago` : "";
    const who = rej.who ? ` by ${rej.who}` : "";
    out.push(`           ${st.dim(`last rejection ${when}${who}: ${truncate(rej.message, 160)}`)}`);
  }
  out.push("");

  const d = r.desired.inForce;
  const a = r.actual;
  const target =
    r.target === null
      ? `min ${d.minWarm}, max ${d.maxWarm}`
      : `${r.target} (min ${d.minWarm}, max ${d.maxWarm})`;
  const warmCell = a.warm < (r.target ?? d.minWarm) ? st.yellow(String(a.warm)) : st.green(String(a.warm));
  const waitingCell = a.waiting > 0 ? st.red(String(a.waiting)) : "0";
  out.push(
    renderTable(
      io,
      [{ header: "STATE" }, { header: "ACTUAL", right: true }, { header: "DESIRED" }],
      [
        ["warm", warmCell, target],
        ["starting", String(a.starting), ""],
        ["claimed", String(a.claimed), ""],
        ["draining", String(a.draining), ""],
        ["waiting", waitingCell, "0"],
        ...(a.unaccounted > 0 ? [["unaccounted", st.yellow(String(a.unaccounted)), "0 (no record)"]] : []),
        ["total", String(a.total + a.unaccounted), `≤ ${d.maxTasks} (maxTasks)`],
      ],
      "",
    ).trimEnd(),
  );
  out.push(
    `utilization ${percent(r.utilization)} (${a.claimed} claimed of ${a.starting + a.warm + a.claimed} live)`,
  );
  out.push("");

  if (r.revisions.length > 0) {
    out.push(st.bold("revisions"));
    out.push(
      renderTable(
        io,
        [
          { header: "REVISION" },
          { header: "STARTING", right: true },
          { header: "WARM", right: true },
          { header: "CLAIMED", right: true },
          { header: "DRAINING", right: true },
        ],
        r.revisions.map((v) => [
          `${shortRevision(v.revision)}${v.target ? " (target)" : ""}`,
          String(v.starting),
          String(v.warm),
          String(v.claimed),
          String(v.draining),
        ]),
      ).trimEnd(),
    );
    const rollout = describeRollout(r);
    if (rollout) out.push(rollout);
    out.push("");
  }

  if (r.drain) {
    const rev = r.drain.revision ? `revision ${r.drain.revision}` : "every revision";
    const left =
      r.drain.idleLeft > 0
        ? st.yellow(`${r.drain.idleLeft} idle task(s) left to replace`)
        : st.green("done: no idle task left");
    out.push(
      `drain      ${rev}, tasks created before ${isoTime(r.drain.beforeMs)}; requested ${age(r.drain.beforeMs, r.atMs)} ago by ${r.drain.by}${r.drain.reason ? ` (${r.drain.reason})` : ""}`,
    );
    out.push(`           ${left}; ${r.drain.claimedLeft} claimed left to finish their sessions`);
    out.push("");
  }

  if (r.asg) {
    out.push(`asg        ${describeAsg(r.asg)}`);
    out.push("");
  }

  if (r.errors.length > 0) {
    out.push(st.bold("recent errors"));
    for (const e of r.errors.slice(0, 5)) {
      out.push(`  ${st.dim(`${age(e.atMs, r.atMs)} ago`.padEnd(10))} ${st.red(truncate(e.message, 160))}`);
    }
  } else out.push(st.dim("recent errors: none"));
  return out.join("\n") + "\n";
}

function describeDesired(d: DesiredState): string {
  const parts = [
    `minWarm ${d.minWarm}`,
    `maxWarm ${d.maxWarm}`,
    `threshold ${d.replenishThreshold}`,
    `maxTasks ${d.maxTasks}`,
    `lease ${d.leaseSeconds}s`,
    `surge ${d.maxSurge}`,
  ];
  if (d.taskDefinition) parts.push(`task ${d.taskDefinition}`);
  if (d.paused) parts.push("PAUSED");
  return parts.join(", ");
}

/** `rollout agent:1 → agent:2: 4 new warm, 1 old idle left, 3 old claimed finishing`. */
function describeRollout(r: StatusReport): string | undefined {
  const target = r.revisions.find((v) => v.target);
  const old = r.revisions.filter((v) => !v.target);
  if (!target || old.length === 0) return undefined;
  const oldIdle = old.reduce((n, v) => n + v.warm + v.starting, 0);
  const oldClaimed = old.reduce((n, v) => n + v.claimed, 0);
  if (oldIdle === 0 && oldClaimed === 0) return undefined;
  const from = old.map((v) => shortRevision(v.revision)).join(", ");
  const state = oldIdle === 0 ? "old idle all replaced" : `${oldIdle} old idle left`;
  return `rollout    ${from} → ${shortRevision(target.revision)}: ${target.warm} new warm, ${state}, ${oldClaimed} old claimed finishing`;
}

/**
 * The ASG part of the snapshot is the reconciler's to shape. Known fields are named: the group,
 * its instances by lifecycle state (a capacity pass's `plan.instances`, or `warmPool.instances`)
 * and the capacity planner's reason. Anything else is shown as JSON.
 */
function describeAsg(asg: unknown): string {
  if (typeof asg !== "object" || asg === null) return String(asg);
  const a = asg as Record<string, unknown>;
  const parts: string[] = [];
  if (typeof a.groupName === "string") parts.push(a.groupName);
  for (const k of ["desiredCapacity", "inService"])
    if (typeof a[k] === "number") parts.push(`${k} ${String(a[k])}`);
  const plan = isRecord(a.plan) ? a.plan : undefined;
  const wp = isRecord(a.warmPool) ? a.warmPool : undefined;
  if (wp) {
    parts.push(
      `warm pool ${String(wp.poolState ?? "")} min ${String(wp.minSize ?? "-")} maxPrepared ${String(wp.maxPreparedCapacity ?? "-")}`,
    );
  }
  const instances = (
    isRecord(plan?.instances) ? plan.instances : isRecord(wp?.instances) ? wp.instances : {}
  ) as Record<string, unknown>;
  const counts = Object.entries(instances)
    .filter(([, n]) => typeof n === "number" && n > 0)
    .map(([s, n]) => `${s} ${String(n)}`)
    .join(", ");
  if (counts) parts.push(`instances [${counts}]`);
  if (typeof plan?.reason === "string") parts.push(plan.reason);
  if (Array.isArray(a.errors) && a.errors.length > 0)
    parts.push(`errors: ${a.errors.map(String).join("; ")}`);
  return parts.length > 0 ? parts.join("  ") : JSON.stringify(asg);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function truncate(s: string, n: number): string {
  return s.length > n ? `${s.slice(0, n - 1)}…` : s;
}
