export { packageRoot, cliEntry } from "./paths.js";
export { sleep, jitter } from "./time.js";
export {
  LuaScripts,
  packageVersion,
  neededKeys,
  EXTRA_KEYS_PRELUDE,
  type ExtraKey,
  type ExtraKind,
} from "./lua.js";
