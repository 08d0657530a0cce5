export { M, type TaskStateLabel, type ClaimOutcome, type AwsOutcome, type ReconcileResult } from "./names.js";
export { createMetrics, type Metrics, LATENCY_BUCKETS, START_BUCKETS } from "./factory.js";
