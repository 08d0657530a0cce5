/**
 * Knows the pool's Lua scripts (one file each under lua/, the key count in the name) and runs them
 * through ioredis `defineCommand`: EVALSHA, loaded once per connection. Command names carry the
 * package version, so two releases sharing one Redis never run each other's scripts.
 *
 * The .lua files are read from the source tree (packageRoot()/pkg/claims/lua): dist/ holds no Lua.
 */
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import type { ChainableCommander, Redis } from "ioredis";
import { packageRoot } from "../util/index.js";

export type ScriptName =
  | "claim"
  | "register"
  | "ready"
  | "release"
  | "heartbeat"
  | "expire"
  | "cordon"
  | "record-launch"
  | "forget"
  | "snapshot";

interface ScriptDef {
  command: string;
  numberOfKeys: number;
  lua: string;
}

let defs: Map<ScriptName, ScriptDef> | undefined;

function version(): string {
  const pkg = JSON.parse(readFileSync(join(packageRoot(), "package.json"), "utf8")) as { version: string };
  return pkg.version.replace(/[^A-Za-z0-9]/g, "_");
}

/** Reads every `<name>-<keys>.lua` once per process. */
export function scriptDefs(): Map<ScriptName, ScriptDef> {
  if (defs) return defs;
  const dir = join(packageRoot(), "pkg", "claims", "lua");
  const suffix = version();
  const found = new Map<ScriptName, ScriptDef>();
  for (const file of readdirSync(dir)) {
    const m = /^([a-z-]+)-(\d+)\.lua$/.exec(file);
    if (!m) continue;
    const name = m[1] as ScriptName;
    const camel = name.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
    found.set(name, {
      command: `wp_${camel}_${suffix}`,
      numberOfKeys: Number(m[2]),
      lua: readFileSync(join(dir, file), "utf8"),
    });
  }
  defs = found;
  return found;
}

const defined = new WeakSet<Redis>();

/** Defines every script on a connection (idempotent). */
export function defineScripts(redis: Redis): void {
  if (defined.has(redis)) return;
  for (const def of scriptDefs().values()) {
    redis.defineCommand(def.command, { numberOfKeys: def.numberOfKeys, lua: def.lua });
  }
  defined.add(redis);
}

type ScriptReply = unknown;

function lookup(name: ScriptName, keys: string[]): ScriptDef {
  const def = scriptDefs().get(name);
  if (!def) throw new Error(`Lua script ${name} not found under pkg/claims/lua`);
  if (keys.length !== def.numberOfKeys) {
    throw new Error(`script ${name} takes ${def.numberOfKeys} keys, got ${keys.length}`);
  }
  return def;
}

/** Runs one script; `keys` must match the count in its file name. */
export async function runScript(
  redis: Redis,
  name: ScriptName,
  keys: string[],
  args: (string | number)[],
): Promise<ScriptReply> {
  const def = lookup(name, keys);
  defineScripts(redis);
  const fn = (redis as unknown as Record<string, (...a: (string | number)[]) => Promise<ScriptReply>>)[
    def.command
  ];
  if (!fn) throw new Error(`script command ${def.command} is not defined`);
  return fn.call(redis, ...keys, ...args);
}

/** Queues one script on a pipeline of a connection that has the scripts defined. */
export function queueScript(
  redis: Redis,
  pipeline: ChainableCommander,
  name: ScriptName,
  keys: string[],
  args: (string | number)[],
): void {
  const def = lookup(name, keys);
  defineScripts(redis);
  const fn = (pipeline as unknown as Record<string, (...a: (string | number)[]) => ChainableCommander>)[
    def.command
  ];
  if (!fn) throw new Error(`script command ${def.command} is not defined on the pipeline`);
  fn.call(pipeline, ...keys, ...args);
}
