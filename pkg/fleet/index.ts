export { assignPools, poolsOf } from "./assign.js";
export { FleetManager, type FleetOptions, type PoolRunner } from "./manager.js";
