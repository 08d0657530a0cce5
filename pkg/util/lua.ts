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
  numberOfKeys: number;
  lua: string;
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
    for (const file of readdirSync(dir)) {
      const m = /^([a-z-]+)-(\d+)\.lua$/.exec(file);
      if (!m) continue;
      const camel = m[1]!.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
      this.defs.set(m[1]!, {
        command: `wp_${tag}_${camel}_${suffix}`,
        numberOfKeys: Number(m[2]),
        lua: readFileSync(join(dir, file), "utf8"),
      });
    }
  }

  /** Defines every script on a connection (idempotent). */
  define(redis: Redis): void {
    if (this.defined.has(redis)) return;
    for (const d of this.defs.values())
      redis.defineCommand(d.command, { numberOfKeys: d.numberOfKeys, lua: d.lua });
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
    return fn.call(redis, ...keys, ...args);
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
    fn.call(pipeline, ...keys, ...args);
  }

  private lookup(name: string, keys: string[]): ScriptDef {
    const d = this.defs.get(name);
    if (!d) throw new Error(`Lua script ${name} not found under ${this.folder}`);
    if (keys.length !== d.numberOfKeys) {
      throw new Error(`script ${name} takes ${d.numberOfKeys} keys, got ${keys.length}`);
    }
    return d;
  }
}
