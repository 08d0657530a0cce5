/**
 * Node one-liners used as task processes. Each writes what it saw to the file named by its
 * OUT environment variable, so a test can read the task's view of the world.
 */

/** Reads the metadata endpoint, records env + metadata, then waits; SIGTERM → records and exits 0. */
export const METADATA_READER = `
const fs = require("node:fs");
const out = process.env.OUT;
process.on("SIGTERM", () => { fs.appendFileSync(out + ".term", "term"); process.exit(0); });
(async () => {
  const base = process.env.ECS_CONTAINER_METADATA_URI_V4;
  const task = await (await fetch(base + "/task")).json();
  const container = await (await fetch(base)).json();
  fs.writeFileSync(out + ".tmp", JSON.stringify({ task, container, env: { GREETING: process.env.GREETING, FROM_TD: process.env.FROM_TD } }));
  fs.renameSync(out + ".tmp", out);
})();
setInterval(() => {}, 1000);
`;

/** Ignores SIGTERM: only SIGKILL ends it. Spawns a grandchild and records both pids. */
export const STUBBORN = `
const fs = require("node:fs");
const { spawn } = require("node:child_process");
process.on("SIGTERM", () => {});
const g = spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)"], { stdio: "ignore" });
fs.writeFileSync(process.env.OUT, JSON.stringify({ pid: process.pid, grandchild: g.pid }));
setInterval(() => {}, 1000);
`;

/** Exits by itself with code 3 shortly after starting. */
export const QUITTER = `setTimeout(() => process.exit(3), 50);`;
