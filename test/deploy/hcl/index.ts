export { parseHcl, HclSyntaxError } from "./parse.js";
export { Evaluator, EvalError, Unknown, plain, spell, type Scope, type Value } from "./evaluate.js";
export type { Block, Body, Expr } from "./types.js";
