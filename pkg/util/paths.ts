import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

let root: string | undefined;

/** The package root (where package.json lives), from source (tsx/vitest) or from dist/. */
export function packageRoot(): string {
  if (root) return root;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, "package.json")) && existsSync(join(dir, "pkg"))) return (root = dir);
    const up = dirname(dir);
    if (up === dir) throw new Error("package root not found above " + fileURLToPath(import.meta.url));
    dir = up;
  }
}

/** Path of the built CLI entry, for tests and `warmpool dev` that spawn child processes. */
export function cliEntry(): string {
  return join(packageRoot(), "dist", "cmd", "warmpool.js");
}
