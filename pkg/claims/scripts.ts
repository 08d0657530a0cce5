/**
 * Knows the pool's Lua scripts (one file each under lua/, the key count in the name) and runs them
 * through ioredis `defineCommand`: EVALSHA, loaded once per connection. Command names carry the
 * package version, so two releases sharing one Redis never run each other's scripts.
 *
 * The .lua files are read from the source tree (packageRoot()/pkg/claims/lua): dist/ holds no Lua.
 */
import type { ChainableCommander, Redis } from "ioredis";
import { LuaScripts } from "../util/index.js";

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
  | "mark-orphan"
  | "snapshot";

let scripts: LuaScripts<ScriptName> | undefined;
function all(): LuaScripts<ScriptName> {
  return (scripts ??= new LuaScripts<ScriptName>("pkg/claims/lua"));
}

/** Defines every script on a connection (idempotent). */
export function defineScripts(redis: Redis): void {
  all().define(redis);
}

/** Runs one script; `keys` must match the count in its file name. */
export function runScript(
  redis: Redis,
  name: ScriptName,
  keys: string[],
  args: (string | number)[],
): Promise<unknown> {
  return all().run(redis, name, keys, args);
}

/** Queues one script on a pipeline of a connection that has the scripts defined. */
export function queueScript(
  redis: Redis,
  pipeline: ChainableCommander,
  name: ScriptName,
  keys: string[],
  args: (string | number)[],
): void {
  all().queue(redis, pipeline, name, keys, args);
}
