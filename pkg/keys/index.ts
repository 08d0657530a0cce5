export { PoolKeys, assertPoolName, REGISTRY_KEY } from "./pool-keys.js";
export { BudgetKeys } from "./budget-keys.js";
