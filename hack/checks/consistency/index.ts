export { checkConsistency, type CheckInput, type CheckReport } from "./check.js";
export {
  selectorsOf,
  metricNamesOf,
  promqlOfTemplateQuery,
  PromqlError,
  type Selector,
  type Matcher,
} from "./promql.js";
export { parseYaml, YamlError, type YamlValue } from "./yaml.js";
export { loadDashboards, DATASOURCE_REF, type ExprUse, type LoadedDashboards } from "./dashboards.js";
export { loadRules, loadAlertTests, type Rule, type AlertTestCoverage } from "./rules.js";
export { exportedMetrics, seriesCatalog, type ExportedMetric } from "./exported.js";
