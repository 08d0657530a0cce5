/**
 * Column tables: in a TTY a bold header over a rule and coloured cells; piped, the same columns
 * with no escape codes or rule, so `awk '{print $1}'` and `grep warm` work. Cells are never
 * wrapped; an empty cell prints `-` (by default) so columns stay countable.
 */
import { style, visibleLength, type CtlIO } from "./io.js";

export interface Column {
  header: string;
  /** Right-align (numbers). */
  right?: boolean;
}

export function renderTable(
  io: Pick<CtlIO, "color" | "isTTY">,
  columns: Column[],
  rows: string[][],
  empty = "-",
): string {
  const st = style(io);
  const cells = rows.map((r) => columns.map((_, i) => (r[i] === undefined || r[i] === "" ? empty : r[i]!)));
  const widths = columns.map((c, i) =>
    Math.max(c.header.length, ...cells.map((r) => visibleLength(r[i] ?? ""))),
  );
  const line = (r: string[], decorate = (s: string): string => s): string =>
    r
      .map((cell, i) => {
        const padding = " ".repeat(widths[i]! - visibleLength(cell));
        const last = i === r.length - 1;
        if (columns[i]?.right) return padding + decorate(cell);
        return decorate(cell) + (last ? "" : padding);
      })
      .join("  ")
      .trimEnd();
  const out = [
    line(
      columns.map((c) => c.header),
      io.color ? st.bold : undefined,
    ),
  ];
  if (io.isTTY) out.push(st.dim(widths.map((w) => "─".repeat(w)).join("  ")));
  for (const r of cells) out.push(line(r));
  return out.join("\n") + "\n";
}
