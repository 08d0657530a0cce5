import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { ChainableCommander, Redis } from "ioredis";
import { packageRoot } from "./paths.js";

let version: string | undefined;

/** The package version, as read from package.json (once). */
export function packageVersion(): string {
  version ??= (JSON.parse(readFileSync(join(packageRoot(), "package.json"), "utf8")) as { version: string })
    .version;
  return version;
}

interface ScriptDef {
  command: string;
  /** The fixed keys; a `+` script takes declared extra keys after them (EXTRA_KEYS_PRELUDE). */
  numberOfKeys: number;
  extraKeys: boolean;
  lua: string;
}

/** The Lua prepended to every `<name>-<n>+.lua` script: how it asks for keys it learns from data. */
export const EXTRA_KEYS_PRELUDE = "pkg/util/lua/extra-keys.lua";

/** A key kind a `+` script may ask for: by task or claim id, or a key name stored in a record. */
export type ExtraKind = "task" | "inbox" | "claim" | "key";
export type ExtraKey = readonly [kind: ExtraKind, id: string];

/** The reply of a `+` script that needs more keys declared: {-100, kind, id, ...}. */
export function neededKeys(reply: unknown): ExtraKey[] | undefined {
  if (!Array.isArray(reply) || reply[0] !== -100) return undefined;
  const out: ExtraKey[] = [];
  for (let i = 1; i + 1 < reply.length; i += 2)
    out.push([String(reply[i]) as ExtraKind, String(reply[i + 1])]);
  return out;
}

/**
 * The Lua scripts of one pkg/ folder (BullMQ's habit): every `<name>-<keys>.lua` file, read once,
 * defined on a connection with ioredis `defineCommand` under a name suffixed with the package
 * version, so two releases sharing one Redis never run each other's scripts. The key count in
 * the file name is checked on every call.
 */
export class LuaScripts<Name extends string = string> {
  private readonly defs = new Map<string, ScriptDef>();
  private readonly defined = new WeakSet<object>();

  /** `folder` is relative to the package root, e.g. "pkg/claims/lua". */
  constructor(private readonly folder: string) {
    const dir = join(packageRoot(), folder);
    const tag = folder.split("/")[1] ?? "x";
    const suffix = packageVersion().replace(/[^A-Za-z0-9]/g, "_");
    let prelude: string | undefined;
    for (const file of readdirSync(dir)) {
      const m = /^([a-z-]+)-(\d+)(\+?)\.lua$/.exec(file);
      if (!m) continue;
      const camel = m[1]!.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
      const extraKeys = m[3] === "+";
      const body = readFileSync(join(dir, file), "utf8");
      if (extraKeys) prelude ??= readFileSync(join(packageRoot(), EXTRA_KEYS_PRELUDE), "utf8");
      this.defs.set(m[1]!, {
        command: `wp_${tag}_${camel}_${suffix}`,
        numberOfKeys: Number(m[2]),
        extraKeys,
        lua: extraKeys ? `${prelude}\n${body}` : body,
      });
    }
  }

  /** Defines every script on a connection (idempotent). */
  define(redis: Redis): void {
    if (this.defined.has(redis)) return;
    for (const d of this.defs.values())
      redis.defineCommand(
        d.command,
        d.extraKeys ? { lua: d.lua } : { numberOfKeys: d.numberOfKeys, lua: d.lua },
      );
    this.defined.add(redis);
  }

  /** Runs one script; `keys` must match the count in its file name. */
  run(redis: Redis, name: Name, keys: string[], args: (string | number)[]): Promise<unknown> {
    const d = this.lookup(name, keys);
    this.define(redis);
    const fn = (redis as unknown as Record<string, (...a: (string | number)[]) => Promise<unknown>>)[
      d.command
    ];
    if (!fn) throw new Error(`script command ${d.command} is not defined`);
    return d.extraKeys ? fn.call(redis, keys.length, ...keys, ...args) : fn.call(redis, ...keys, ...args);
  }

  /**
   * Runs a `+` script until it has every key it touches declared: `keys` and `args` are its fixed
   * ones, `extras` what the caller already knows it needs; each {-100, …} answer adds the keys
   * asked for (`keyOf` builds them) and the call is repeated, at most `rounds` times.
   */
  async runDeclared(
    redis: Redis,
    name: Name,
    keys: string[],
    args: (string | number)[],
    keyOf: (e: ExtraKey) => string,
    extras: readonly ExtraKey[] = [],
    rounds = 8,
    onNeed?: (need: ExtraKey[]) => void,
    /** The fixed arguments of a repeated call (a script asking for more at once as calls repeat). */
    argsFor?: (round: number) => (string | number)[],
  ): Promise<unknown> {
    const have = new Map<string, ExtraKey>();
    for (const e of extras) have.set(`${e[0]} ${e[1]}`, e);
    for (let round = 0; round < rounds; round++) {
      const list = [...have.values()];
      const reply = await this.run(
        redis,
        name,
        [...keys, ...list.map(keyOf)],
        [...(argsFor ? argsFor(round) : args), list.length, ...list.flat()],
      );
      const need = neededKeys(reply);
      if (!need) return reply;
      onNeed?.(need);
      for (const e of need) have.set(`${e[0]} ${e[1]}`, e);
    }
    throw new Error(`script ${name}: still asking for undeclared keys after ${rounds} calls`);
  }

  /** Queues one script on a pipeline of `redis` (which gets the scripts defined). */
  queue(
    redis: Redis,
    pipeline: ChainableCommander,
    name: Name,
    keys: string[],
    args: (string | number)[],
  ): void {
    const d = this.lookup(name, keys);
    this.define(redis);
    const fn = (pipeline as unknown as Record<string, (...a: (string | number)[]) => ChainableCommander>)[
      d.command
    ];
    if (!fn) throw new Error(`script command ${d.command} is not defined on the pipeline`);
    if (d.extraKeys) fn.call(pipeline, keys.length, ...keys, ...args, 0);
    else fn.call(pipeline, ...keys, ...args);
  }

  private lookup(name: string, keys: string[]): ScriptDef {
    const d = this.defs.get(name);
    if (!d) throw new Error(`Lua script ${name} not found under ${this.folder}`);
    if (d.extraKeys ? keys.length < d.numberOfKeys : keys.length !== d.numberOfKeys) {
      throw new Error(`script ${name} takes ${d.numberOfKeys} keys, got ${keys.length}`);
    }
    return d;
  }
}
