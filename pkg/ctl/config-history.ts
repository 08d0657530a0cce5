/**
 * `ctl config history` and `ctl config rollback [N]`. Versions are the distinct accepted values
 * in `config:history`, newest first: `back 0` is the value in the key now (when accepted), `back
 * N` the Nth accepted value before it. `rollback N` restores `back N` (default 1) through the
 * same validated, diffed, compare-and-set write as any change, re-checked under today's rules.
 */
import { DEFAULT_DESIRED, parseDesiredState, type ConfigRead, type HistoryEntry } from "../config/index.js";
import { redisNowMs, type CtlContext } from "./context.js";
import { writeDesired, type WriteFlags } from "./config-write.js";
import { diffDocs, summarizeDiff } from "./diff.js";
import { CtlError, EXIT, type ExitCode } from "./errors.js";
import { age, isoTime } from "./format.js";
import { json, style } from "./io.js";
import { renderTable } from "./table.js";

const SCAN = 500;

interface Version {
  back: number;
  entry: HistoryEntry;
}

/** Accepted values newest first, consecutive repeats folded, numbered as `back` counts them. */
export function versions(history: HistoryEntry[], read: ConfigRead): Version[] {
  const accepted: HistoryEntry[] = [];
  for (const e of history) {
    if (e.result !== "accepted" || e.after === "") continue;
    if (accepted.length > 0 && accepted[accepted.length - 1]!.after === e.after) continue;
    accepted.push(e);
  }
  const current = read.state === "missing" ? null : read.raw;
  const offset = accepted[0] && accepted[0].after === current ? 0 : 1;
  return accepted.map((entry, i) => ({ back: i + offset, entry }));
}

export async function configHistory(ctx: CtlContext, limit: number): Promise<ExitCode> {
  const [history, read, now] = await Promise.all([
    ctx.config.history(Math.max(limit, 1) + SCAN),
    ctx.config.read(),
    redisNowMs(ctx.redis),
  ]);
  const vs = versions(history, read);
  const backOf = new Map(vs.map((v) => [v.entry.id, v.back]));
  const shown = history.slice(0, limit);
  const rows = shown.map((e, i) => {
    const before = e.before ?? olderAccepted(history, i)?.after;
    // The oldest entry kept has nothing before it: show it against the defaults, and say so.
    const change =
      e.result === "rejected"
        ? (e.errors ?? []).map((x) => `${x.field} [${x.rule}]`).join(", ")
        : before === undefined
          ? `vs defaults: ${summarizeDiff(diffDocs(DEFAULT_DESIRED, parseLoose(e.after)))}`
          : summarizeDiff(diffDocs(parseLoose(before), parseLoose(e.after)));
    return { e, back: backOf.get(e.id), change };
  });
  if (ctx.output === "json") {
    ctx.io.out(
      json(
        rows.map(({ e, back, change }) => ({
          ...e,
          at: isoTime(e.atMs),
          ...(back !== undefined ? { back } : {}),
          change,
        })),
      ),
    );
    return EXIT.ok;
  }
  if (rows.length === 0) {
    ctx.io.out(`no history for pool ${ctx.pool}\n`);
    return EXIT.ok;
  }
  const st = style(ctx.io);
  ctx.io.out(
    renderTable(
      ctx.io,
      [
        { header: "BACK", right: true },
        { header: "WHEN" },
        { header: "AGO", right: true },
        { header: "RESULT" },
        { header: "WHO" },
        { header: "WHY" },
        { header: "CHANGE" },
      ],
      rows.map(({ e, back, change }) => [
        back === undefined ? "" : String(back),
        isoTime(e.atMs),
        age(e.atMs, now),
        e.result === "accepted" ? st.green(e.result) : st.red(e.result),
        e.who ?? "",
        e.why ?? "",
        change,
      ]),
    ),
  );
  return EXIT.ok;
}

export async function configRollback(
  ctx: CtlContext,
  to: string | undefined,
  flags: WriteFlags,
): Promise<ExitCode> {
  const target = to ?? "1";
  const byId = /^\d+-\d+$/.test(target);
  if (!byId && !/^[1-9]\d{0,5}$/.test(target)) {
    throw new CtlError(
      `rollback: N must be a positive whole number of versions back (see BACK in \`ctl config history\`) or a history id like 1764373836000-0 (got ${JSON.stringify(target)}); nothing written`,
    );
  }
  const [history, read] = await Promise.all([ctx.config.history(SCAN), ctx.config.read()]);
  const vs = versions(history, read);
  const pick = byId
    ? history.find((e) => e.id === target && e.result === "accepted")
    : vs.find((v) => v.back === Number(target))?.entry;
  if (!pick) {
    const have = vs.filter((v) => v.back > 0).length;
    throw new CtlError(
      byId
        ? `rollback: no accepted history entry ${target}; nothing written`
        : `rollback: there is no version ${target} back: the history holds ${have} earlier accepted version${have === 1 ? "" : "s"}; nothing written`,
    );
  }
  const parsed = parseDesiredState(pick.after);
  if (!parsed.ok) {
    throw new CtlError(
      `rollback: the version of ${isoTime(pick.atMs)} is not valid under today's rules (${parsed.errors.map((e) => e.message).join("; ")}); nothing written`,
    );
  }
  const action = `ctl config rollback to ${pick.id} (${isoTime(pick.atMs)})`;
  return writeDesired(ctx, {
    ...flags,
    read,
    next: parsed.value,
    action,
    ...(flags.reason ? { reason: `${flags.reason} (${action})` } : {}),
  });
}

function olderAccepted(history: HistoryEntry[], i: number): HistoryEntry | undefined {
  return history.slice(i + 1).find((e) => e.result === "accepted" && e.after !== "");
}

/** A history value as the reconciler reads it (defaults written out), else as raw JSON. */
function parseLoose(raw: string | undefined): unknown {
  if (raw === undefined || raw === "") return {};
  const v = parseDesiredState(raw);
  if (v.ok) return v.value;
  try {
    return JSON.parse(raw);
  } catch {
    return {};
  }
}
