import { readFileSync } from "node:fs";
import { format } from "prettier";
import { describe, expect, it } from "vitest";
import { mdTable } from "../../pkg/sim/index.js";

describe("generated figures", () => {
  it("the Markdown table is laid out exactly as prettier would (the format check passes on regeneration)", async () => {
    const md = [
      ...mdTable(
        ["profile", "policy", "warm hits", "cost"],
        [
          ["diurnal", "origin static 5/20/3", "6.97%", "$296.13"],
          ["bursty", "adaptive 3..200", "99.63%", "$3.00"],
        ],
        2,
      ),
      "",
    ].join("\n");
    expect(await format(md, { parser: "markdown", printWidth: 110 })).toBe(md);
  });

  it("docs/figures/comparison.md is prettier-clean and shows adaptive winning on both profiles", async () => {
    const md = readFileSync(new URL("../../docs/figures/comparison.md", import.meta.url), "utf8");
    expect(await format(md, { parser: "markdown", printWidth: 110 })).toBe(md);
    expect(md).toMatch(/\*\*diurnal\*\* \(\d+ claims\): adaptive wins/);
    expect(md).toMatch(/\*\*bursty\*\* \(\d+ claims\): adaptive wins/);
  });
});
