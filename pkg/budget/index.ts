export { SharedBudget, type SharedBudgetOptions, type BudgetAnswer } from "./shared-budget.js";
