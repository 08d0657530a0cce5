import { mkdtempSync, mkdirSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { prepareWorkspace, WorkspaceRefused } from "../../pkg/bridge/index.js";
import { checkUserId } from "../../pkg/claims/index.js";

let base: string;
let root: string;
let outside: string;
beforeEach(() => {
  base = mkdtempSync(join(tmpdir(), "wp-ws-"));
  root = join(base, "root");
  outside = join(base, "outside");
  mkdirSync(root);
  mkdirSync(outside);
});
afterEach(() => rmSync(base, { recursive: true, force: true }));

const HOSTILE: [string, string][] = [
  ["../x", "path separator"],
  ["..", "'.'"],
  [".", "'.'"],
  [".hidden", "'.'"],
  ["/etc", "path separator"],
  ["a/b", "path separator"],
  ["a\\b", "path separator"],
  ["a\u0000b", "NUL"],
  ["a\nb", "control"],
  ["", "empty"],
  ["x".repeat(65), "must match"],
  ["x".repeat(129), "at most 128"],
  ["ａｌｉｃｅ", "NFKC"], // full-width look-alikes
  ["e\u0301", "NFKC"], // decomposed accent
  ["ali\u200bce", "invisible"], // zero-width space
  ["alice\u202e", "control"], // right-to-left override
  ["-alice", "must match"],
  ["al ice", "must match"],
];

describe("user ids and workspaces", () => {
  it.each(HOSTILE)("refuses userId %j (%s) and writes nothing", async (id, rule) => {
    const c = checkUserId(id);
    expect(c.ok).toBe(false);
    if (!c.ok) expect(c.rule).toContain(rule);
    await expect(prepareWorkspace(root, id)).rejects.toBeInstanceOf(WorkspaceRefused);
    expect(readdirSync(root)).toEqual([]);
    expect(readdirSync(outside)).toEqual([]);
  });

  it("accepts ordinary ids: creates <root>/<id> with mode 0700, reuses it next time", async () => {
    for (const id of ["alice", "Bob_2", "u-0123456789"]) {
      const dir = await prepareWorkspace(root, id);
      expect(dir).toBe(join(root, id));
      expect(statSync(dir).mode & 0o777).toBe(0o700);
      writeFileSync(join(dir, "keep"), "x");
      expect(await prepareWorkspace(root, id)).toBe(dir);
      expect(readdirSync(dir)).toEqual(["keep"]);
    }
  });

  it("refuses a symlink planted at <root>/<id>, even one pointing inside the root", async () => {
    symlinkSync(outside, join(root, "eve"));
    await expect(prepareWorkspace(root, "eve")).rejects.toThrow(/symbolic link/);
    mkdirSync(join(root, "real"));
    symlinkSync(join(root, "real"), join(root, "mallory"));
    await expect(prepareWorkspace(root, "mallory")).rejects.toThrow(/symbolic link/);
    expect(statSync(outside).mode & 0o777).not.toBe(0o700);
    expect(readdirSync(outside)).toEqual([]);
  });

  it("refuses an existing file where the workspace should be", async () => {
    writeFileSync(join(root, "file"), "x");
    await expect(prepareWorkspace(root, "file")).rejects.toThrow(/not a directory/);
  });

  it("works through a root that is itself a symlink (resolved once, with realpath)", async () => {
    const link = join(base, "root-link");
    symlinkSync(root, link);
    expect(await prepareWorkspace(link, "alice")).toBe(join(root, "alice"));
  });

  it("a custom pattern cannot loosen the hard rules", () => {
    expect(checkUserId("../x", /^.*$/).ok).toBe(false);
    expect(checkUserId("a.b@example.com", /^[a-z.@]+$/).ok).toBe(true);
  });
});
