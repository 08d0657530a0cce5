export { packageRoot, cliEntry } from "./paths.js";
export { sleep, jitter } from "./time.js";
