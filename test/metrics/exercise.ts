import { Counter, Gauge, Histogram, Summary } from "prom-client";
import { BOUNDED_LABELS, isRuntimeMetric, type Metrics } from "../../pkg/metrics/index.js";

/** A plausible value for each free (unbounded) label of the factory's metrics. */
const SAMPLE_LABEL_VALUES: Record<string, string> = {
  api: "RunTask",
  action: "stop",
  reason: "never-registered",
  state: "InService",
};

/**
 * Observes every metric the factory registered (process runtime metrics aside, which observe
 * themselves) for one pool, with every value of each bounded label, so an exposition carries
 * a sample of each. Returns the metric names it touched.
 */
export function exerciseEveryMetric(metrics: Metrics, pool: string): string[] {
  const touched: string[] = [];
  for (const { name } of metrics.registry.getMetricsAsArray()) {
    if (isRuntimeMetric(name)) continue;
    const metric = metrics.registry.getSingleMetric(name);
    const labelNames = (metric as unknown as { labelNames: string[] }).labelNames;
    let labelSets: Record<string, string>[] = [{}];
    for (const label of labelNames) {
      const values =
        BOUNDED_LABELS[name]?.[label] ??
        (label === "pool" ? [pool] : [SAMPLE_LABEL_VALUES[label] ?? `sample-${label}`]);
      labelSets = labelSets.flatMap((set) => values.map((v) => ({ ...set, [label]: v })));
    }
    for (const labels of labelSets) {
      if (metric instanceof Counter) metric.inc(labels, 2);
      else if (metric instanceof Gauge) metric.set(labels, 3);
      else if (metric instanceof Histogram || metric instanceof Summary) {
        for (const v of [0.002, 0.8, 12]) metric.observe(labels, v);
      } else throw new Error(`metric ${name}: unknown kind`);
    }
    touched.push(name);
  }
  return touched;
}
