/**
 * The committed contract files are what the code generates: api/openapi.json (the gateway, from
 * pkg/api) and api/desired-state.schema.json (the config key, from pkg/config/schema.ts). Fails
 * naming the file that drifted; `--write` regenerates them.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { openApiDocument } from "../../pkg/api/index.js";
import { desiredStateJsonSchema } from "../../pkg/config/index.js";
import { packageRoot } from "../../pkg/util/index.js";

export function contractFiles(root = packageRoot()): Record<string, string> {
  const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { version: string };
  const text = (v: unknown): string => `${JSON.stringify(v, null, 2)}\n`;
  return {
    "api/openapi.json": text(openApiDocument(pkg.version)),
    "api/desired-state.schema.json": text(desiredStateJsonSchema()),
  };
}

/** Paths whose committed text differs from the generated one (missing counts as different). */
export function driftedFiles(root = packageRoot()): string[] {
  const drifted: string[] = [];
  for (const [path, want] of Object.entries(contractFiles(root))) {
    let have = "";
    try {
      have = readFileSync(join(root, path), "utf8");
    } catch {
      /* missing */
    }
    if (have !== want) drifted.push(path);
  }
  return drifted;
}

function main(): void {
  const root = packageRoot();
  if (process.argv.includes("--write")) {
    for (const [path, text] of Object.entries(contractFiles(root))) writeFileSync(join(root, path), text);
    console.log("api contract: regenerated api/openapi.json and api/desired-state.schema.json");
    return;
  }
  const drifted = driftedFiles(root);
  if (drifted.length > 0) {
    console.error(
      `api contract: ${drifted.join(", ")} differ from what pkg/api and pkg/config/schema.ts generate; ` +
        "run `npx tsc -p . && node dist/hack/checks/api-contract.js --write` and commit the result",
    );
    process.exit(1);
  }
  console.log("api contract: api/openapi.json and api/desired-state.schema.json match the code");
}

if (process.argv[1] && import.meta.url === `file://${process.argv[1]}`) main();
