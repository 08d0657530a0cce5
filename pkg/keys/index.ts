export { PoolKeys, assertPoolName } from "./pool-keys.js";
export { BudgetKeys } from "./budget-keys.js";
