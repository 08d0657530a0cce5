import type { Redis } from "ioredis";
import { LuaScripts } from "../util/index.js";

/** The lease scripts (`acquire-2.lua`, `renew-2.lua`, `release-1.lua` beside this file). */
export type LeaseScript = "acquire" | "renew" | "release";

let scripts: LuaScripts<LeaseScript> | undefined;

/** The lease scripts, defined on `redis` once, versioned so two releases never mix. */
export function leaseScripts(redis: Redis): LuaScripts<LeaseScript> {
  scripts ??= new LuaScripts<LeaseScript>("pkg/leader");
  scripts.define(redis);
  return scripts;
}
