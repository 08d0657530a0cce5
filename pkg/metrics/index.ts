export {
  M,
  TASK_STATES,
  CLAIM_OUTCOMES,
  AWS_OUTCOMES,
  RECONCILE_RESULTS,
  BOUNDED_LABELS,
  DEFAULT_METRICS_PREFIX,
  RUNTIME_METRIC_PREFIXES,
  isRuntimeMetric,
  type TaskStateLabel,
  type ClaimOutcome,
  type AwsOutcome,
  type ReconcileResult,
} from "./names.js";
export { createMetrics, type Metrics, LATENCY_BUCKETS, START_BUCKETS } from "./factory.js";
