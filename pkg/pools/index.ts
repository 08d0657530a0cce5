export {
  PoolRegistry,
  parseLabels,
  matchesSelector,
  type PoolEntry,
  type PoolLifecycle,
} from "./registry.js";
