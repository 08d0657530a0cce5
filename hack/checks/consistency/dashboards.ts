/**
 * Reads the Grafana dashboards under a directory: every PromQL expression their panels and
 * template variables run, plus the structural promises that make them importable as-is (a
 * stable uid, a schemaVersion, a Prometheus datasource variable, a `pool` variable offering
 * "All" and several pools at once, every panel bound to that datasource variable, unique panel ids).
 */
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { promqlOfTemplateQuery } from "./promql.js";

export interface ExprUse {
  /** Where a reader finds it: file › panel › target. */
  where: string;
  expr: string;
  /** True for panel queries, false for template-variable queries. */
  panel: boolean;
}

export interface LoadedDashboards {
  files: string[];
  exprs: ExprUse[];
  /** Each dashboard's `pool` variable as Grafana would send it for "All". */
  poolVariables: { file: string; allValue?: string }[];
  problems: string[];
}

export const DATASOURCE_REF = "${datasource}";

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);
const list = (v: unknown): Json[] => (Array.isArray(v) ? v.filter(isObject) : []);

function datasourceUid(v: unknown): string | undefined {
  if (typeof v === "string") return v;
  return isObject(v) && typeof v.uid === "string" ? v.uid : undefined;
}

function walkPanels(panels: Json[]): Json[] {
  return panels.flatMap((p) => [p, ...walkPanels(list(p.panels))]);
}

function readOne(file: string, name: string, seenUids: Map<string, string>, out: LoadedDashboards): void {
  const problem = (msg: string): void => {
    out.problems.push(`${name}: ${msg}`);
  };
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(file, "utf8"));
  } catch (e) {
    problem(`not valid JSON (${(e as Error).message})`);
    return;
  }
  if (!isObject(doc)) return problem("not a dashboard object");

  if (typeof doc.uid !== "string" || !/^[a-zA-Z0-9_-]{1,40}$/.test(doc.uid)) {
    problem("uid must be a stable string of 1-40 letters, digits, '-' or '_'");
  } else if (seenUids.has(doc.uid)) {
    problem(`uid "${doc.uid}" is also used by ${seenUids.get(doc.uid)}`);
  } else seenUids.set(doc.uid, name);
  if (typeof doc.title !== "string" || doc.title === "") problem("title is missing");
  if (typeof doc.schemaVersion !== "number") problem("schemaVersion must be a number");
  if (doc.id !== null && doc.id !== undefined)
    problem("id must be null so the dashboard imports into any Grafana");

  const vars = list(isObject(doc.templating) ? doc.templating.list : undefined);
  const ds = vars.find((v) => v.name === "datasource");
  if (ds?.type !== "datasource" || ds.query !== "prometheus") {
    problem('templating needs a variable "datasource" of type "datasource" with query "prometheus"');
  }
  const pool = vars.find((v) => v.name === "pool");
  if (pool?.type !== "query") problem('templating needs a query variable "pool"');
  else if (pool.includeAll !== true || pool.multi !== true) {
    problem('variable "pool" must offer "All" and several pools at once (includeAll and multi true)');
  }
  if (pool) {
    out.poolVariables.push({
      file: name,
      ...(typeof pool.allValue === "string" ? { allValue: pool.allValue } : {}),
    });
  }
  for (const v of vars) {
    if (v.type !== "query") continue;
    if (datasourceUid(v.datasource) !== DATASOURCE_REF) {
      problem(`variable "${String(v.name)}" must use the datasource ${DATASOURCE_REF}`);
    }
    const q = isObject(v.query) ? v.query.query : v.query;
    if (typeof q !== "string") {
      problem(`variable "${String(v.name)}" has no query`);
      continue;
    }
    const expr = promqlOfTemplateQuery(q);
    if (expr !== undefined)
      out.exprs.push({ where: `${name} › variable "${String(v.name)}"`, expr, panel: false });
  }

  const ids = new Set<number>();
  for (const p of walkPanels(list(doc.panels))) {
    const title = typeof p.title === "string" ? p.title : "";
    const label = `panel "${title}"`;
    if (typeof p.id !== "number") problem(`${label} has no numeric id`);
    else if (ids.has(p.id)) problem(`${label} reuses panel id ${p.id}`);
    else ids.add(p.id);
    if (title === "") problem(`a panel (id ${String(p.id)}) has no title`);
    if (!isObject(p.gridPos)) problem(`${label} has no gridPos`);
    if (p.type === "row") continue;
    const targets = list(p.targets);
    if (targets.length === 0) problem(`${label} has no query`);
    if (datasourceUid(p.datasource) !== DATASOURCE_REF) {
      problem(`${label} must use the datasource ${DATASOURCE_REF}`);
    }
    for (const t of targets) {
      const ref = typeof t.refId === "string" ? t.refId : "?";
      if (t.datasource !== undefined && datasourceUid(t.datasource) !== DATASOURCE_REF) {
        problem(`${label} target ${ref} must use the datasource ${DATASOURCE_REF}`);
      }
      if (typeof t.expr !== "string" || t.expr.trim() === "") {
        problem(`${label} target ${ref} has no expr`);
        continue;
      }
      out.exprs.push({ where: `${name} › ${label} › target ${ref}`, expr: t.expr, panel: true });
    }
  }
}

/** Every `*.json` dashboard directly under `dir`. */
export function loadDashboards(dir: string): LoadedDashboards {
  const out: LoadedDashboards = { files: [], exprs: [], poolVariables: [], problems: [] };
  const seenUids = new Map<string, string>();
  const names = readdirSync(dir)
    .filter((f) => f.endsWith(".json"))
    .sort();
  if (names.length === 0) out.problems.push(`${dir}: no dashboards (*.json)`);
  for (const f of names) {
    out.files.push(f);
    readOne(join(dir, f), f, seenUids, out);
  }
  return out;
}
