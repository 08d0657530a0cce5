/**
 * An SVG chart of one or more runs over the same demand: claims per second, the warm pool (and
 * its target) and the longest claim wait, in three panels sharing a time axis in hours. Plain
 * SVG text, no dependencies, so it renders on GitHub and in any browser.
 */
import type { SimResult } from "./stats.js";

const W = 980;
const PANEL_H = 170;
const LEFT = 64;
const RIGHT = 190;
const TOP = 36;
const GAP = 46;
const COLORS = ["#d62728", "#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"];

interface Line {
  label: string;
  color: string;
  ys: number[];
  dashed?: boolean;
}

export function chartSvg(title: string, results: readonly SimResult[]): string {
  const first = results[0];
  if (!first) throw new Error("chart: no result to draw");
  const xs = first.series.tMs.map((t) => (t + first.series.bucketMs / 2) / 3_600_000);
  const hours = first.durationMs / 3_600_000;
  const color = (i: number) => COLORS[i % COLORS.length]!;
  const panels: { title: string; unit: string; lines: Line[] }[] = [
    {
      title: "demand",
      unit: "claims/s",
      lines: [{ label: "claims/s", color: "#444", ys: first.series.demandPerS }],
    },
    {
      title: "warm pool (solid: lowest warm in bucket; dashed: target)",
      unit: "tasks",
      lines: results.flatMap((r, i) => [
        { label: r.label, color: color(i), ys: r.series.warmMin },
        { label: `${r.label} target`, color: color(i), ys: r.series.target, dashed: true },
      ]),
    },
    {
      title: "longest claim wait in bucket",
      unit: "s",
      lines: results.map((r, i) => ({
        label: r.label,
        color: color(i),
        ys: r.series.maxWaitMs.map((v) => v / 1000),
      })),
    },
  ];
  const height = TOP + panels.length * (PANEL_H + GAP) + 10;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${height}" viewBox="0 0 ${W} ${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${LEFT}" y="20" font-size="14" font-weight="bold">${esc(title)}</text>`,
  ];
  panels.forEach((p, pi) => {
    const y0 = TOP + pi * (PANEL_H + GAP);
    const plotW = W - LEFT - RIGHT;
    const ymax = niceMax(Math.max(0, ...p.lines.flatMap((l) => l.ys)));
    const px = (h: number) => LEFT + (h / hours) * plotW;
    const py = (v: number) => y0 + PANEL_H - (v / ymax) * PANEL_H;
    out.push(`<text x="${LEFT}" y="${y0 - 6}" font-weight="bold">${esc(p.title)}</text>`);
    out.push(`<rect x="${LEFT}" y="${y0}" width="${plotW}" height="${PANEL_H}" fill="none" stroke="#bbb"/>`);
    for (let k = 0; k <= 4; k++) {
      const v = (ymax * k) / 4;
      const y = py(v);
      out.push(`<line x1="${LEFT}" x2="${LEFT + plotW}" y1="${f(y)}" y2="${f(y)}" stroke="#eee"/>`);
      out.push(`<text x="${LEFT - 6}" y="${f(y + 4)}" text-anchor="end">${fmtTick(v)}</text>`);
    }
    out.push(
      `<text transform="translate(14 ${y0 + PANEL_H / 2}) rotate(-90)" text-anchor="middle">${esc(p.unit)}</text>`,
    );
    const step = hours > 36 ? 12 : hours > 12 ? 3 : hours > 3 ? 1 : 0.25;
    for (let h = 0; h <= hours + 1e-9; h += step) {
      out.push(`<text x="${f(px(h))}" y="${y0 + PANEL_H + 14}" text-anchor="middle">${fmtTick(h)}h</text>`);
    }
    p.lines.forEach((l, li) => {
      const pts = l.ys.map((v, i) => `${f(px(xs[i] ?? 0))},${f(py(v))}`).join(" ");
      out.push(
        `<polyline fill="none" stroke="${l.color}" stroke-width="1.4"${l.dashed ? ' stroke-dasharray="4 3"' : ""} points="${pts}"/>`,
      );
      if (!l.dashed) {
        const ly = y0 + 12 + li * 16;
        out.push(
          `<line x1="${W - RIGHT + 12}" x2="${W - RIGHT + 30}" y1="${ly - 4}" y2="${ly - 4}" stroke="${l.color}" stroke-width="2"/>`,
        );
        out.push(`<text x="${W - RIGHT + 34}" y="${ly}">${esc(l.label)}</text>`);
      }
    });
  });
  out.push("</svg>");
  return out.join("\n") + "\n";
}

function niceMax(v: number): number {
  if (v <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}
function fmtTick(v: number): string {
  return Number(v.toFixed(2)).toString();
}
function f(n: number): string {
  return n.toFixed(1);
}
function esc(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}
