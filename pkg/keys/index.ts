export { PoolKeys, assertPoolName, REGISTRY_KEY, REPLICAS_KEY } from "./pool-keys.js";
export { BudgetKeys } from "./budget-keys.js";
