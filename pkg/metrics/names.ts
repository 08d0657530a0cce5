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
  // What the capacity pass aims for (pkg/asg CapacityMetrics): InService instances, and those
  // plus the warm pool (the prepared capacity written as MaxGroupPreparedCapacity's ceiling).
  asgDesiredCapacity: "warmpool_asg_desired_capacity",
  asgPreparedCapacity: "warmpool_asg_desired_prepared_capacity",
  runTaskFailuresTotal: "warmpool_runtask_failures_total",
  oldestIdleSeconds: "warmpool_oldest_idle_task_age_seconds",
  refillDuration: "warmpool_refill_duration_seconds",
  leaseExpiriesTotal: "warmpool_lease_expiries_total",
  lastPassTimestamp: "warmpool_last_reconcile_timestamp_seconds",
  // The adaptive warm-target policy's inputs and output (pkg/policy POLICY_METRICS).
  policyArrivalRate: "warmpool_policy_arrival_rate_per_second",
  policyStartP90: "warmpool_policy_task_start_p90_seconds",
  policyExpectedDemand: "warmpool_policy_expected_demand",
  policyRawTarget: "warmpool_policy_raw_target",
  policyTarget: "warmpool_policy_target",
  rolloutOutdated: "warmpool_rollout_outdated_tasks",
  // Observing ECS from a cache (pkg/observe): the budget, the feed's health, the relists' drift.
  ecsBudget: "warmpool_ecs_budget_calls_per_second",
  observeMode: "warmpool_observe_mode",
  feedUp: "warmpool_feed_up",
  feedEventsTotal: "warmpool_feed_events_total",
  feedEventLag: "warmpool_feed_event_lag_seconds",
  relistsTotal: "warmpool_relists_total",
  cacheDriftTotal: "warmpool_cache_drift_tasks_total",
  relistDrift: "warmpool_relist_drift_tasks",
  // The AWS budget every pool and replica of one account and region shares (pkg/budget).
  awsBudget: "warmpool_aws_budget_calls_per_second",
  awsBudgetSpent: "warmpool_aws_budget_spent_calls_total",
} as const;

/**
 * Bounded label values, as runtime lists so the consistency check can reject a dashboard or rule
 * that filters on a value no process ever emits (`outcome="hits"`).
 */
/** Record states, and `unaccounted`: live in ECS, started before this Redis state, no record. */
export const TASK_STATES = ["starting", "warm", "claimed", "draining", "unaccounted"] as const;
/**
 * `rejected`: refused by a quota or a full waiting queue (429 / 503, nothing changed);
 * `abandoned`: the caller went away before the answer and the claim was released.
 */
export const CLAIM_OUTCOMES = ["hit", "queued", "timeout", "error", "rejected", "abandoned"] as const;
export const AWS_OUTCOMES = ["ok", "throttled", "error", "failure"] as const;
export const RECONCILE_RESULTS = ["ok", "partial", "error", "skipped"] as const;
/** How the reconciler observes ECS: a full list every pass (old), or a cache with or without a feed. */
export const OBSERVE_MODES = ["list", "feed", "relist-only"] as const;
/** `elsewhere`: a pool another replica serves; left in the queue for it (pkg/observe/feed.ts). */
export const FEED_OUTCOMES = ["applied", "duplicate", "stale", "foreign", "malformed", "elsewhere"] as const;
export const RELIST_KINDS = ["full", "targeted"] as const;
export const BUDGET_FAMILIES = ["read", "write"] as const;
/** API classes of the shared account budget (pkg/budget). */
export const BUDGET_APIS = ["ecs-read", "ecs-write", "autoscaling"] as const;

export type TaskStateLabel = (typeof TASK_STATES)[number];
export type ClaimOutcome = (typeof CLAIM_OUTCOMES)[number];
export type AwsOutcome = (typeof AWS_OUTCOMES)[number];
export type ReconcileResult = (typeof RECONCILE_RESULTS)[number];

/** Metric → label → the only values it takes. Labels absent here are bounded by their writers. */
export const BOUNDED_LABELS: Readonly<Record<string, Readonly<Record<string, readonly string[]>>>> = {
  [M.tasks]: { state: TASK_STATES },
  [M.claimsTotal]: { outcome: CLAIM_OUTCOMES },
  [M.claimDuration]: { outcome: CLAIM_OUTCOMES },
  [M.awsRequestsTotal]: { outcome: AWS_OUTCOMES },
  [M.reconcileTotal]: { result: RECONCILE_RESULTS },
  [M.observeMode]: { mode: OBSERVE_MODES },
  [M.feedEventsTotal]: { outcome: FEED_OUTCOMES },
  [M.relistsTotal]: { kind: RELIST_KINDS, result: ["ok", "error"] },
  [M.cacheDriftTotal]: { kind: RELIST_KINDS },
  [M.ecsBudget]: { family: BUDGET_FAMILIES },
  [M.awsBudget]: { api: BUDGET_APIS },
  [M.awsBudgetSpent]: { api: BUDGET_APIS },
};

/**
 * prom-client's default collector writes the Node process's runtime metrics under this prefix,
 * which then reads `warmpool_process_cpu_seconds_total`, `warmpool_nodejs_eventloop_lag_seconds`
 * (prom-client adds its own `process_` / `nodejs_`).
 */
export const DEFAULT_METRICS_PREFIX = "warmpool_";

/**
 * Runtime metrics describe the Node process rather than the pool, so dashboards chart a few and
 * the dead-metric rule skips them. Every one starts with one of these.
 */
export const RUNTIME_METRIC_PREFIXES = [
  `${DEFAULT_METRICS_PREFIX}process_`,
  `${DEFAULT_METRICS_PREFIX}nodejs_`,
] as const;

/** A runtime metric of the default collector (not one of `M`). */
export function isRuntimeMetric(name: string): boolean {
  return RUNTIME_METRIC_PREFIXES.some((p) => name.startsWith(p));
}
