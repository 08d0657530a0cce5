export { packageRoot, cliEntry } from "./paths.js";
export { sleep, jitter } from "./time.js";
export { LuaScripts, packageVersion } from "./lua.js";
