/**
 * What a registry exports, as Prometheus sees it after a scrape: a histogram `x` becomes the
 * series `x_bucket` (with `le`), `x_sum` and `x_count`; a summary `x`, `x_sum` and `x_count`
 * (with `quantile`); counters and gauges keep their name.
 */
import type { Registry } from "prom-client";

export interface ExportedMetric {
  name: string;
  type: "counter" | "gauge" | "histogram" | "summary";
  labels: string[];
}

export interface ExportedSeries {
  metric: ExportedMetric;
  /** Labels a selector of this series may match on (its own, plus `le`/`quantile` and the target labels). */
  labels: Set<string>;
}

/** Labels Prometheus attaches to every scraped series. */
export const TARGET_LABELS = ["job", "instance"] as const;

export function exportedMetrics(registry: Registry): ExportedMetric[] {
  return registry.getMetricsAsArray().map((m) => {
    const labelNames = (registry.getSingleMetric(m.name) as { labelNames?: readonly string[] } | undefined)
      ?.labelNames;
    return { name: m.name, type: String(m.type) as ExportedMetric["type"], labels: [...(labelNames ?? [])] };
  });
}

export function seriesCatalog(metrics: ExportedMetric[]): Map<string, ExportedSeries> {
  const out = new Map<string, ExportedSeries>();
  for (const metric of metrics) {
    const base = [...metric.labels, ...TARGET_LABELS];
    const add = (name: string, extra: string[] = []): void => {
      out.set(name, { metric, labels: new Set([...base, ...extra]) });
    };
    if (metric.type === "histogram") {
      add(`${metric.name}_bucket`, ["le"]);
      add(`${metric.name}_sum`);
      add(`${metric.name}_count`);
    } else if (metric.type === "summary") {
      add(metric.name, ["quantile"]);
      add(`${metric.name}_sum`);
      add(`${metric.name}_count`);
    } else {
      add(metric.name);
    }
  }
  return out;
}
