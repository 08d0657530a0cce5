import type { Redis } from "ioredis";
import type { PoolKeys } from "../keys/index.js";
import { LuaScripts } from "../util/index.js";

let scripts: LuaScripts<"state-birth"> | undefined;

/**
 * When the pool's state in this Redis began (`Observed.stateBornAtMs`): the planner never stops a
 * live task older than that as an orphan, because its record was lost with the state and it may
 * be serving a user. One script call per pass.
 */
export async function readStateBirth(redis: Redis, keys: PoolKeys): Promise<number> {
  scripts ??= new LuaScripts<"state-birth">("pkg/reconciler/lua");
  const ms = Number(await scripts.run(redis, "state-birth", [keys.born], []));
  if (!Number.isFinite(ms)) throw new Error(`${keys.born} holds no time in ms`);
  return ms;
}
