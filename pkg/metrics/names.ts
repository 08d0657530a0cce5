/**
 * Metric names are a contract with the dashboards and alert rules (DESIGN §7). Every name is
 * spelled here once; `hack/checks` verifies that dashboards and rules use exactly these.
 */
export const M = {
  tasks: "warmpool_tasks",
  desiredWarm: "warmpool_desired_warm",
  utilization: "warmpool_pool_utilization_ratio",
  claimsTotal: "warmpool_claims_total",
  claimDuration: "warmpool_claim_duration_seconds",
  claimsWaiting: "warmpool_claims_waiting",
  taskStartDuration: "warmpool_task_start_duration_seconds",
  reconcileDuration: "warmpool_reconcile_duration_seconds",
  reconcileTotal: "warmpool_reconcile_total",
  awsRequestsTotal: "warmpool_aws_requests_total",
  awsRequestDuration: "warmpool_aws_request_duration_seconds",
  awsQueueDepth: "warmpool_aws_queue_depth",
  actionsTotal: "warmpool_actions_total",
  leader: "warmpool_leader",
  configValid: "warmpool_config_valid",
  configRejectionsTotal: "warmpool_config_rejections_total",
  asgInstances: "warmpool_asg_instances",
  runTaskFailuresTotal: "warmpool_runtask_failures_total",
  oldestIdleSeconds: "warmpool_oldest_idle_task_age_seconds",
  refillDuration: "warmpool_refill_duration_seconds",
  leaseExpiriesTotal: "warmpool_lease_expiries_total",
  lastPassTimestamp: "warmpool_last_reconcile_timestamp_seconds",
} as const;

/** Bounded label values. */
export type TaskStateLabel = "starting" | "warm" | "claimed" | "draining";
export type ClaimOutcome = "hit" | "queued" | "timeout" | "error";
export type AwsOutcome = "ok" | "throttled" | "error" | "failure";
export type ReconcileResult = "ok" | "partial" | "error" | "skipped";
