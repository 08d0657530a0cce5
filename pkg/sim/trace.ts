/**
 * Claim traces: a CSV of claim times and session lengths to replay through the simulator.
 *
 *   claim_at,session_s
 *   0.0,312
 *   2026-11-28T09:00:01.250Z,95.5
 *
 * `claim_at` is seconds from the start of the trace or an ISO-8601 time (the first row's time
 * is then the start); `session_s` is how long the claim held its task. A header row is
 * optional; `#` lines and blank lines are skipped. Rows must be in time order.
 */
import type { Arrival } from "./demand.js";

export function parseTrace(text: string, source = "trace"): Arrival[] {
  const out: Arrival[] = [];
  let origin: number | undefined;
  const lines = text.split(/\r?\n/);
  for (let n = 0; n < lines.length; n++) {
    const line = lines[n]!.trim();
    if (line === "" || line.startsWith("#")) continue;
    const cols = line.split(",").map((c) => c.trim());
    const where = `${source}:${n + 1}`;
    if (out.length === 0 && origin === undefined && /[a-z]/i.test(cols[0] ?? "") && !isIsoTime(cols[0]!)) {
      continue; // header
    }
    if (cols.length < 2)
      throw new Error(`${where}: expected 2 columns (claim_at,session_s), got ${cols.length}`);
    const [at, sess] = cols as [string, string];
    let atMs: number;
    if (isIsoTime(at)) {
      const abs = Date.parse(at);
      if (Number.isNaN(abs)) throw new Error(`${where}: claim_at: not a valid ISO-8601 time: ${at}`);
      origin ??= abs;
      atMs = abs - origin;
    } else {
      const s = Number(at);
      if (at === "" || !Number.isFinite(s) || s < 0)
        throw new Error(`${where}: claim_at: must be seconds ≥ 0 or an ISO-8601 time, got "${at}"`);
      atMs = s * 1000;
    }
    const d = Number(sess);
    if (sess === "" || !Number.isFinite(d) || d < 0)
      throw new Error(`${where}: session_s: must be a number of seconds ≥ 0, got "${sess}"`);
    const prev = out[out.length - 1];
    if (prev && atMs < prev.atMs) throw new Error(`${where}: claim_at: rows must be in time order`);
    out.push({ atMs, sessionMs: d * 1000 });
  }
  if (out.length === 0) throw new Error(`${source}: no claims found`);
  return out;
}

function isIsoTime(s: string): boolean {
  return /^\d{4}-\d{2}-\d{2}T/.test(s);
}
