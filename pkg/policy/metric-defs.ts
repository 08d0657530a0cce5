/**
 * Metric definitions for the adaptive policy's inputs and output, for the reconciler to export
 * (DESIGN §7 naming: base units, gauges). Kept here as data so the integrator adds them to
 * pkg/metrics in one place; `warmpool_desired_warm` already carries the final target.
 */
export const POLICY_METRICS = [
  {
    name: "warmpool_policy_arrival_rate_per_second",
    type: "gauge",
    labelNames: ["pool"],
    help: "Claim arrivals (hits and misses) per second, smoothed over the adaptive policy window.",
  },
  {
    name: "warmpool_policy_task_start_p90_seconds",
    type: "gauge",
    labelNames: ["pool"],
    help: "p90 of recent task start durations (RunTask to registered warm) the adaptive policy uses.",
  },
  {
    name: "warmpool_policy_expected_demand",
    type: "gauge",
    labelNames: ["pool"],
    help: "Claims expected during one replacement's lead time (rate times start p90 plus refill delay).",
  },
  {
    name: "warmpool_policy_raw_target",
    type: "gauge",
    labelNames: ["pool"],
    help: "Base-stock warm target for the demand measured now, before the scale-down delay and clamping.",
  },
  {
    name: "warmpool_policy_target",
    type: "gauge",
    labelNames: ["pool"],
    help: "Adaptive warm target after the scale-down delay and clamping to [minWarm, maxWarm].",
  },
] as const;
