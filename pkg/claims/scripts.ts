/**
 * Knows the pool's Lua scripts (one file each under lua/, the key count in the name) and runs them
 * through ioredis `defineCommand`: EVALSHA, loaded once per connection. Command names carry the
 * package version, so two releases sharing one Redis never run each other's scripts.
 *
 * The .lua files are read from the source tree (packageRoot()/pkg/claims/lua): dist/ holds no Lua.
 */
import type { ChainableCommander, Redis } from "ioredis";
import { LuaScripts, type ExtraKey } from "../util/index.js";
import type { ClaimKeys } from "./claim-keys.js";

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

/**
 * Runs a script that declares keys it learns from data (`<name>-<n>+.lua`, see
 * pkg/util/lua/extra-keys.lua) until it has them all: every key it touches is then in KEYS, as
 * Redis Cluster requires. `extras` are keys the caller already knows the script will ask for.
 */
export function runDeclared(
  redis: Redis,
  name: ScriptName,
  k: ClaimKeys,
  keys: string[],
  args: (string | number)[],
  extras: readonly ExtraKey[] = [],
  rounds?: number,
  onNeed?: (need: ExtraKey[]) => void,
  argsFor?: (round: number) => (string | number)[],
): Promise<unknown> {
  return all().runDeclared(redis, name, keys, args, (e) => extraKey(k, e), extras, rounds, onNeed, argsFor);
}

/** The key of one declared extra; a stored key name must belong to the pool (its hash tag). */
export function extraKey(k: ClaimKeys, [kind, id]: ExtraKey): string {
  switch (kind) {
    case "task":
      return k.task(id);
    case "inbox":
      return k.inbox(id);
    case "claim":
      return k.claim(id);
    case "key":
      if (!id.startsWith(k.prefix))
        throw new Error(`a record of pool ${k.pool} names a key outside it: ${id}`);
      return id;
  }
}
