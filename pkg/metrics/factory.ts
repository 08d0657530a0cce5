import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import { DEFAULT_METRICS_PREFIX, M } from "./names.js";

/** Buckets that resolve a warm claim (ms) and a cold one (tens of seconds) alike. */
export const LATENCY_BUCKETS = [
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 15, 20, 30, 60, 120,
];
/** Task start and refill: seconds to minutes. */
export const START_BUCKETS = [0.25, 0.5, 1, 2, 5, 10, 15, 20, 30, 45, 60, 90, 120, 180, 300, 600];
const FAST_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * One typed factory for every metric of the project (Lodestar's createLodestarMetrics). A
 * process creates the set it exports on its own registry; unused metrics are not created.
 */
export function createMetrics(registry = new Registry(), opts: { defaults?: boolean } = {}) {
  if (opts.defaults !== false) {
    collectDefaultMetrics({ register: registry, prefix: DEFAULT_METRICS_PREFIX });
    // prom-client exports these totals as gauges; a `_total` gauge breaks `promtool check metrics`
    // and each is the sum of its labelled sibling (`..._active_handles{type}`), so they go.
    for (const kind of ["handles", "requests", "resources"]) {
      registry.removeSingleMetric(`${DEFAULT_METRICS_PREFIX}nodejs_active_${kind}_total`);
    }
  }
  const r = [registry];
  return {
    registry,
    tasks: new Gauge({
      name: M.tasks,
      help: "Pool tasks by lifecycle state.",
      labelNames: ["pool", "state"],
      registers: r,
    }),
    desiredWarm: new Gauge({
      name: M.desiredWarm,
      help: "Warm (idle) tasks the reconciler aims for.",
      labelNames: ["pool"],
      registers: r,
    }),
    utilization: new Gauge({
      name: M.utilization,
      help: "Claimed tasks over all live pool tasks (0-1).",
      labelNames: ["pool"],
      registers: r,
    }),
    claimsTotal: new Counter({
      name: M.claimsTotal,
      help: "Claims by outcome.",
      labelNames: ["pool", "outcome"],
      registers: r,
    }),
    claimDuration: new Histogram({
      name: M.claimDuration,
      help: "Allocation latency: claim request to task ready for the user.",
      labelNames: ["pool", "outcome"],
      buckets: LATENCY_BUCKETS,
      registers: r,
    }),
    claimsWaiting: new Gauge({
      name: M.claimsWaiting,
      help: "Claims queued for an empty pool.",
      labelNames: ["pool"],
      registers: r,
    }),
    taskStartDuration: new Histogram({
      name: M.taskStartDuration,
      help: "RunTask to the bridge registering warm.",
      labelNames: ["pool"],
      buckets: START_BUCKETS,
      registers: r,
    }),
    reconcileDuration: new Histogram({
      name: M.reconcileDuration,
      help: "Duration of one reconcile pass.",
      labelNames: ["pool"],
      buckets: FAST_BUCKETS,
      registers: r,
    }),
    reconcileTotal: new Counter({
      name: M.reconcileTotal,
      help: "Reconcile passes by result.",
      labelNames: ["pool", "result"],
      registers: r,
    }),
    awsRequestsTotal: new Counter({
      name: M.awsRequestsTotal,
      help: "AWS API calls by API and outcome.",
      labelNames: ["pool", "api", "outcome"],
      registers: r,
    }),
    awsRequestDuration: new Histogram({
      name: M.awsRequestDuration,
      help: "AWS API call latency by API.",
      labelNames: ["pool", "api"],
      buckets: FAST_BUCKETS,
      registers: r,
    }),
    awsQueueDepth: new Gauge({
      name: M.awsQueueDepth,
      help: "AWS calls waiting in the rate-limited queue, by API.",
      labelNames: ["pool", "api"],
      registers: r,
    }),
    actionsTotal: new Counter({
      name: M.actionsTotal,
      help: "Reconciler actions by kind and reason.",
      labelNames: ["pool", "action", "reason"],
      registers: r,
    }),
    leader: new Gauge({
      name: M.leader,
      help: "1 when this process holds the reconciler lease.",
      labelNames: ["pool"],
      registers: r,
    }),
    configValid: new Gauge({
      name: M.configValid,
      help: "1 when the desired state in Redis is valid.",
      labelNames: ["pool"],
      registers: r,
    }),
    configRejectionsTotal: new Counter({
      name: M.configRejectionsTotal,
      help: "Desired states rejected by validation.",
      labelNames: ["pool"],
      registers: r,
    }),
    asgInstances: new Gauge({
      name: M.asgInstances,
      help: "Auto Scaling instances by lifecycle state (InService, Warmed:Hibernated, ...).",
      labelNames: ["pool", "state"],
      registers: r,
    }),
    asgDesiredCapacity: new Gauge({
      name: M.asgDesiredCapacity,
      help: "Desired capacity (InService instances) the capacity pass aims for, before scale-in safety.",
      labelNames: ["pool"],
      registers: r,
    }),
    asgPreparedCapacity: new Gauge({
      name: M.asgPreparedCapacity,
      help: "Instances the capacity pass keeps prepared: the desired capacity it leaves plus the warm pool.",
      labelNames: ["pool"],
      registers: r,
    }),
    runTaskFailuresTotal: new Counter({
      name: M.runTaskFailuresTotal,
      help: "RunTask failures by reason (RESOURCE:CPU, ...).",
      labelNames: ["pool", "reason"],
      registers: r,
    }),
    oldestIdleSeconds: new Gauge({
      name: M.oldestIdleSeconds,
      help: "Age of the oldest idle warm task.",
      labelNames: ["pool"],
      registers: r,
    }),
    refillDuration: new Histogram({
      name: M.refillDuration,
      help: "Time from the warm count dropping below target to it being back at target.",
      labelNames: ["pool"],
      buckets: START_BUCKETS,
      registers: r,
    }),
    leaseExpiriesTotal: new Counter({
      name: M.leaseExpiriesTotal,
      help: "Claim leases that expired.",
      labelNames: ["pool"],
      registers: r,
    }),
    lastPassTimestamp: new Gauge({
      name: M.lastPassTimestamp,
      help: "Unix time of the last completed reconcile pass.",
      labelNames: ["pool"],
      registers: r,
    }),
    policyArrivalRate: new Gauge({
      name: M.policyArrivalRate,
      help: "Claim arrivals (hits and misses) per second, smoothed over the adaptive policy window.",
      labelNames: ["pool"],
      registers: r,
    }),
    policyStartP90: new Gauge({
      name: M.policyStartP90,
      help: "p90 of recent task start durations (RunTask to registered warm) the adaptive policy uses.",
      labelNames: ["pool"],
      registers: r,
    }),
    policyExpectedDemand: new Gauge({
      name: M.policyExpectedDemand,
      help: "Claims expected during one replacement's lead time (rate times start p90 plus refill delay).",
      labelNames: ["pool"],
      registers: r,
    }),
    policyRawTarget: new Gauge({
      name: M.policyRawTarget,
      help: "Base-stock warm target for the demand measured now, before the scale-down delay and clamping.",
      labelNames: ["pool"],
      registers: r,
    }),
    policyTarget: new Gauge({
      name: M.policyTarget,
      help: "Adaptive warm target after the scale-down delay and clamping to [minWarm, maxWarm].",
      labelNames: ["pool"],
      registers: r,
    }),
    rolloutOutdated: new Gauge({
      name: M.rolloutOutdated,
      help: "Warm tasks of an old task-definition revision (or covered by a drain) still left to replace: rollout progress, 0 when done.",
      labelNames: ["pool"],
      registers: r,
    }),
    ecsBudget: new Gauge({
      name: M.ecsBudget,
      help: "ECS calls per second this reconciler may spend, by API family (read: List/Describe, write: Run/Stop).",
      labelNames: ["pool", "family"],
      registers: r,
    }),
    awsBudget: new Gauge({
      name: M.awsBudget,
      help: "Calls per second every pool and replica of the account and region may spend together, by API class (the shared budget in Redis).",
      labelNames: ["account", "region", "api"],
      registers: r,
    }),
    awsBudgetSpent: new Counter({
      name: M.awsBudgetSpent,
      help: "Calls this process took from the account's shared budget, by API class (the sum over replicas is the account's spend; per pool: warmpool_aws_requests_total).",
      labelNames: ["account", "region", "api"],
      registers: r,
    }),
    observeMode: new Gauge({
      name: M.observeMode,
      help: "1 for how the reconciler observes ECS: list (every pass), feed (cache + event feed), relist-only (cache, no feed configured).",
      labelNames: ["pool", "mode"],
      registers: r,
    }),
    feedUp: new Gauge({
      name: M.feedUp,
      help: "1 while the ECS event feed's queue answers; 0 when down or not configured.",
      labelNames: ["pool"],
      registers: r,
    }),
    feedEventsTotal: new Counter({
      name: M.feedEventsTotal,
      help: "ECS task state change events read from the feed, by outcome (applied, or dropped as duplicate, stale, foreign, malformed).",
      labelNames: ["pool", "outcome"],
      registers: r,
    }),
    feedEventLag: new Histogram({
      name: M.feedEventLag,
      help: "Time from an ECS task state change to the reconciler applying its event.",
      labelNames: ["pool"],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300],
      registers: r,
    }),
    relistsTotal: new Counter({
      name: M.relistsTotal,
      help: "Relists of the task cache (full: ListTasks + DescribeTasks; targeted: DescribeTasks of tasks in doubt), by result.",
      labelNames: ["pool", "kind", "result"],
      registers: r,
    }),
    cacheDriftTotal: new Counter({
      name: M.cacheDriftTotal,
      help: "Tasks a relist or targeted describe found the cache had wrong (live vs stopped).",
      labelNames: ["pool", "kind"],
      registers: r,
    }),
    relistDrift: new Gauge({
      name: M.relistDrift,
      help: "Tasks the last full relist found the cache had wrong.",
      labelNames: ["pool"],
      registers: r,
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
