/**
 * Draws a dashboard's key time-series panels as one SVG from a real Prometheus, for docs where
 * no Grafana runs. It reads the Grafana dashboard JSON, substitutes what Grafana would (`$pool`,
 * `$__rate_interval`, `$__interval`, `$__range`), runs each panel target through
 * `/api/v1/query_range`, and draws a grid of small line charts (stacked areas for panels Grafana
 * stacks), with the panel's unit on the y axis and its legend below.
 *
 *   node dist/hack/render-dashboard.js --prometheus http://127.0.0.1:9090 \
 *     --dashboard dashboards/pool-health.json --pool dev --out docs/dashboard.svg \
 *     [--range 3m] [--end <unix seconds>] [--rate-interval 15s] [--panels "Tasks by state,Claim latency"]
 */
import { readFileSync, writeFileSync } from "node:fs";
import { parseArgs } from "node:util";

/** The panels on-call looks at first; titles as in dashboards/pool-health.json. */
const KEY_PANELS = [
  "Tasks by state",
  "Desired vs actual warm",
  "Utilization",
  "Claim latency",
  "Claims by outcome",
  "Waiting claims",
];
/** Grafana's classic palette, in its order; well-known label values keep a fixed colour. */
const PALETTE = ["#73BF69", "#F2CC0C", "#8AB8FF", "#FF780A", "#F2495C", "#5794F2", "#B877D9", "#FADE2A"];
const NAMED: Record<string, string> = {
  warm: "#73BF69",
  starting: "#8AB8FF",
  claimed: "#FF780A",
  draining: "#B877D9",
  desired: "#8AB8FF",
  p50: "#73BF69",
  p95: "#F2CC0C",
  p99: "#F2495C",
};
const COLUMNS = 3;
const CELL_W = 420;
const CELL_H = 250;
const GAP = 12;
const HEADER_H = 56;

interface Target {
  expr: string;
  legendFormat?: string;
}
interface Panel {
  type: string;
  title: string;
  targets?: Target[];
  panels?: Panel[];
  fieldConfig?: { defaults?: { unit?: string; custom?: { stacking?: { mode?: string } } } };
}
interface Series {
  name: string;
  points: [number, number][];
}
interface Chart {
  title: string;
  unit: string;
  stacked: boolean;
  series: Series[];
}

function durationSeconds(text: string, flag: string): number {
  const m = /^(\d+)(s|m|h)$/.exec(text);
  if (!m) throw new Error(`--${flag}: "${text}" is not a duration like 30s, 3m or 1h`);
  return Number(m[1]) * { s: 1, m: 60, h: 3600 }[m[2] as "s" | "m" | "h"];
}

/** What Grafana sends for one pool: variables replaced, windows sized for the chosen step. */
function substitute(expr: string, v: { pool: string; rateInterval: string; step: number; range: number }) {
  return expr
    .replace(/\$\{?pool\}?/g, v.pool)
    .replace(/\$\{?__rate_interval\}?/g, v.rateInterval)
    .replace(/\$\{?__interval\}?/g, `${v.step}s`)
    .replace(/\$\{?__range\}?/g, `${v.range}s`);
}

function legend(format: string | undefined, labels: Record<string, string>, expr: string): string {
  if (format && format !== "__auto")
    return format.replace(/\{\{\s*(\w+)\s*\}\}/g, (_m, l: string) => labels[l] ?? "");
  const shown = Object.entries(labels).filter(([k]) => k !== "__name__");
  return shown.length > 0 ? shown.map(([k, v]) => `${k}=${v}`).join(", ") : expr;
}

async function queryRange(
  prometheus: string,
  expr: string,
  start: number,
  end: number,
  step: number,
): Promise<{ metric: Record<string, string>; values: [number, string][] }[]> {
  const qs = new URLSearchParams({ query: expr, start: String(start), end: String(end), step: String(step) });
  const res = await fetch(`${prometheus}/api/v1/query_range?${qs.toString()}`);
  const body = (await res.json()) as { status: string; error?: string; data?: { result: unknown } };
  if (body.status !== "success") throw new Error(`prometheus rejected ${expr}: ${body.error ?? res.status}`);
  return body.data?.result as { metric: Record<string, string>; values: [number, string][] }[];
}

function findPanels(panels: Panel[], titles: string[]): Panel[] {
  const flat = panels.flatMap((p) => [p, ...(p.panels ?? [])]);
  return titles.map((title) => {
    const found =
      flat.find((p) => p.title === title && p.type === "timeseries") ?? flat.find((p) => p.title === title);
    if (!found) throw new Error(`--panels: the dashboard has no panel titled "${title}"`);
    if (!found.targets?.length) throw new Error(`--panels: panel "${title}" has no queries`);
    return found;
  });
}

// ---- drawing ----------------------------------------------------------------------------

const esc = (s: string): string =>
  s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

function formatValue(v: number, unit: string): string {
  const trim = (n: number, d: number): string => String(Number(n.toFixed(d)));
  switch (unit) {
    case "percentunit":
      return `${trim(v * 100, 1)}%`;
    case "s":
      if (v === 0) return "0";
      return Math.abs(v) < 1 ? `${trim(v * 1000, 0)} ms` : `${trim(v, 2)} s`;
    case "ops":
    case "reqps":
      return `${trim(v, 2)}/s`;
    default:
      return Math.abs(v) >= 1000 ? `${trim(v / 1000, 1)}k` : trim(v, 2);
  }
}

/** Up to ~5 round ticks from 0 (or the minimum) to just above the maximum. */
function niceTicks(max: number): number[] {
  if (!(max > 0)) return [0, 1];
  const raw = max / 4;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = ([1, 2, 2.5, 5, 10].find((m) => m * mag >= raw) ?? 10) * mag;
  const ticks: number[] = [];
  for (let t = 0; t <= max + step * 0.999; t += step) ticks.push(Number(t.toPrecision(10)));
  return ticks;
}

const clock = (t: number): string => new Date(t * 1000).toISOString().slice(11, 19);

function drawChart(c: Chart, x0: number, y0: number, start: number, end: number): string {
  const out: string[] = [];
  const pad = { l: 58, r: 12, t: 30, b: 22 };
  const legendRows = Math.ceil(c.series.length / 3) || 1;
  const plotW = CELL_W - pad.l - pad.r;
  const plotH = CELL_H - pad.t - pad.b - legendRows * 15 - 8;
  const legendTop = pad.t + plotH + pad.b + 4;
  out.push(`<g transform="translate(${x0},${y0})">`);
  out.push(`<rect width="${CELL_W}" height="${CELL_H}" rx="3" fill="#181b1f" stroke="#2c3235"/>`);
  out.push(`<text x="10" y="19" class="title">${esc(c.title)}</text>`);

  // Stacked panels draw cumulative sums; NaN (no samples at a step) counts as a gap.
  const steps = [...new Set(c.series.flatMap((s) => s.points.map((p) => p[0])))].sort((a, b) => a - b);
  const lines: { name: string; pts: ([number, number] | null)[]; base: ([number, number] | null)[] }[] = [];
  const acc = new Map<number, number>();
  for (const s of c.series) {
    const at = new Map(s.points);
    const pts: ([number, number] | null)[] = [];
    const base: ([number, number] | null)[] = [];
    for (const t of steps) {
      const v = at.get(t);
      if (v === undefined || !Number.isFinite(v)) {
        pts.push(null);
        base.push(null);
        continue;
      }
      const below = c.stacked ? (acc.get(t) ?? 0) : 0;
      if (c.stacked) acc.set(t, below + v);
      pts.push([t, below + v]);
      base.push([t, below]);
    }
    lines.push({ name: s.name, pts, base });
  }
  const max = Math.max(0, ...lines.flatMap((l) => l.pts.filter((p) => p !== null).map((p) => p[1])));
  const ticks = niceTicks(max);
  const top = ticks[ticks.length - 1] ?? 1;
  const sx = (t: number): number => pad.l + ((t - start) / (end - start)) * plotW;
  const sy = (v: number): number => pad.t + plotH - (v / top) * plotH;

  for (const t of ticks) {
    out.push(`<line x1="${pad.l}" x2="${pad.l + plotW}" y1="${sy(t)}" y2="${sy(t)}" class="grid"/>`);
    out.push(
      `<text x="${pad.l - 6}" y="${sy(t) + 4}" class="axis" text-anchor="end">${esc(formatValue(t, c.unit))}</text>`,
    );
  }
  for (let i = 0; i <= 3; i++) {
    const t = start + ((end - start) * i) / 3;
    const anchor = i === 0 ? "start" : i === 3 ? "end" : "middle";
    out.push(
      `<text x="${sx(t)}" y="${pad.t + plotH + 15}" class="axis" text-anchor="${anchor}">${clock(t)}</text>`,
    );
  }
  if (lines.every((l) => l.pts.every((p) => p === null))) {
    out.push(
      `<text x="${pad.l + plotW / 2}" y="${pad.t + plotH / 2}" class="axis" text-anchor="middle">No data</text>`,
    );
  }

  const fmt = (p: [number, number]): string => `${sx(p[0]).toFixed(1)},${sy(p[1]).toFixed(1)}`;
  lines.forEach((l, i) => {
    const color = NAMED[l.name] ?? PALETTE[i % PALETTE.length];
    // One path per run of consecutive samples, so a gap in the data shows as a gap.
    let run: number[] = [];
    const flush = (): void => {
      if (run.length === 0) return;
      const up = run.map((k) => fmt(l.pts[k] as [number, number]));
      if (c.stacked) {
        const down = run.map((k) => fmt(l.base[k] as [number, number])).reverse();
        out.push(`<polygon points="${[...up, ...down].join(" ")}" fill="${color}" fill-opacity="0.35"/>`);
      } else {
        out.push(
          `<polygon points="${[...up, fmt([steps[run.at(-1) as number] as number, 0]), fmt([steps[run[0] as number] as number, 0])].join(" ")}" fill="${color}" fill-opacity="0.08"/>`,
        );
      }
      out.push(`<polyline points="${up.join(" ")}" fill="none" stroke="${color}" stroke-width="1.6"/>`);
      run = [];
    };
    l.pts.forEach((p, k) => (p === null ? flush() : run.push(k)));
    flush();
    const lx = 10 + (i % 3) * ((CELL_W - 20) / 3);
    const ly = legendTop + Math.floor(i / 3) * 15;
    out.push(`<rect x="${lx}" y="${ly + 5}" width="12" height="3" fill="${color}"/>`);
    out.push(`<text x="${lx + 16}" y="${ly + 10}" class="legend">${esc(l.name.slice(0, 26))}</text>`);
  });
  out.push(
    `<rect x="${pad.l}" y="${pad.t}" width="${plotW}" height="${plotH}" fill="none" stroke="#2c3235"/>`,
  );
  out.push("</g>");
  return out.join("\n");
}

export function renderSvg(
  title: string,
  subtitle: string,
  charts: Chart[],
  start: number,
  end: number,
): string {
  const rows = Math.ceil(charts.length / COLUMNS);
  const width = COLUMNS * CELL_W + (COLUMNS + 1) * GAP;
  const height = HEADER_H + rows * (CELL_H + GAP) + GAP;
  const cells = charts.map((c, i) =>
    drawChart(
      c,
      GAP + (i % COLUMNS) * (CELL_W + GAP),
      HEADER_H + Math.floor(i / COLUMNS) * (CELL_H + GAP),
      start,
      end,
    ),
  );
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">`,
    "<style>text{font-family:Inter,Helvetica,Arial,sans-serif;fill:#ccccdc}" +
      ".title{font-size:14px;font-weight:600}.axis{font-size:11px;fill:#8e8e9c}.legend{font-size:11px}" +
      ".h1{font-size:18px;font-weight:600}.grid{stroke:#2c3235;stroke-width:1}</style>",
    `<rect width="${width}" height="${height}" fill="#111217"/>`,
    `<text x="${GAP}" y="26" class="h1">${esc(title)}</text>`,
    `<text x="${GAP}" y="45" class="axis">${esc(subtitle)}</text>`,
    ...cells,
    "</svg>",
    "",
  ].join("\n");
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      prometheus: { type: "string" },
      dashboard: { type: "string" },
      pool: { type: "string" },
      out: { type: "string" },
      range: { type: "string", default: "3m" },
      end: { type: "string" },
      "rate-interval": { type: "string", default: "15s" },
      panels: { type: "string", default: KEY_PANELS.join(",") },
    },
  });
  for (const f of ["prometheus", "dashboard", "pool", "out"] as const) {
    if (!values[f]) throw new Error(`--${f} is required`);
  }
  const prometheus = (values.prometheus as string).replace(/\/$/, "");
  const pool = values.pool as string;
  const range = durationSeconds(values.range, "range");
  durationSeconds(values["rate-interval"], "rate-interval");
  const end = values.end ? Number(values.end) : Math.floor(Date.now() / 1000);
  if (!Number.isFinite(end) || end <= 0)
    throw new Error(`--end: "${values.end}" is not a unix time in seconds`);
  const start = end - range;
  const step = Math.max(1, Math.round(range / 180));
  const dash = JSON.parse(readFileSync(values.dashboard as string, "utf8")) as {
    title: string;
    panels: Panel[];
  };
  const titles = values.panels
    .split(",")
    .map((t) => t.trim())
    .filter(Boolean);

  const charts: Chart[] = [];
  for (const panel of findPanels(dash.panels, titles)) {
    const series: Series[] = [];
    for (const t of panel.targets ?? []) {
      const expr = substitute(t.expr, { pool, rateInterval: values["rate-interval"], step, range });
      for (const r of await queryRange(prometheus, expr, start, end, step)) {
        series.push({
          name: legend(t.legendFormat, r.metric, expr),
          points: r.values.map(([ts, v]) => [ts, Number(v)]),
        });
      }
    }
    series.sort((a, b) => a.name.localeCompare(b.name));
    charts.push({
      title: panel.title,
      unit: panel.fieldConfig?.defaults?.unit ?? "short",
      stacked: panel.fieldConfig?.defaults?.custom?.stacking?.mode === "normal",
      series,
    });
  }
  const subtitle =
    `pool="${pool}" · ${new Date(start * 1000).toISOString().slice(0, 19)}Z – ${clock(end)}Z · ` +
    `rendered from Prometheus by hack/render-dashboard.ts`;
  writeFileSync(values.out as string, renderSvg(dash.title, subtitle, charts, start, end));
  const empty = charts.filter((c) => c.series.length === 0).map((c) => c.title);
  console.log(
    `wrote ${values.out}: ${charts.length} panels${empty.length ? `, no data for: ${empty.join(", ")}` : ""}`,
  );
}

main().catch((e: unknown) => {
  console.error(`render-dashboard: ${(e as Error).message}`);
  process.exit(1);
});
