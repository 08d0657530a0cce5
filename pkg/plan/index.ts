export * from "./types.js";
export { plan } from "./plan.js";
export { isLive } from "./census.js";
export { RUN_TASK_MAX, backoffMs } from "./gating.js";
export { revisionMatches } from "./revision-match.js";
export { fastRefill, type FastCounts, type FastRefill, type FastRefillInput } from "./fast-refill.js";
