export { PoolKeys, assertPoolName } from "./pool-keys.js";
