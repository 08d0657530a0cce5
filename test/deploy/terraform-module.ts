/**
 * Reads a Terraform module from its .tf files and evaluates it for a given set of inputs, as far
 * as it can be known offline: variables (with defaults), locals, and any resource's or data
 * source's arguments. What only AWS knows stays an `Unknown` naming the reference.
 */
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import {
  EvalError,
  Evaluator,
  Unknown,
  parseHcl,
  spell,
  type Block,
  type Expr,
  type Value,
} from "./hcl/index.js";

export interface TfModule {
  dir: string;
  files: string[];
  variables: Map<string, Block>;
  locals: Map<string, Expr>;
  /** Keyed "type.name". */
  resources: Map<string, Block>;
  data: Map<string, Block>;
  outputs: Map<string, Block>;
}

export function loadModule(dir: string): TfModule {
  const mod: TfModule = {
    dir,
    files: [],
    variables: new Map(),
    locals: new Map(),
    resources: new Map(),
    data: new Map(),
    outputs: new Map(),
  };
  for (const f of readdirSync(dir)
    .filter((f) => f.endsWith(".tf"))
    .sort()) {
    const path = join(dir, f);
    mod.files.push(path);
    const body = parseHcl(readFileSync(path, "utf8"), path);
    for (const b of body.blocks) {
      const key = b.labels.join(".");
      if (b.type === "variable") mod.variables.set(key, b);
      else if (b.type === "resource") mod.resources.set(key, b);
      else if (b.type === "data") mod.data.set(key, b);
      else if (b.type === "output") mod.outputs.set(key, b);
      else if (b.type === "locals") {
        for (const [k, e] of Object.entries(b.body.attributes)) {
          if (mod.locals.has(k)) throw new Error(`${path}: local.${k} is defined twice`);
          mod.locals.set(k, e);
        }
      }
    }
  }
  return mod;
}

/** Values of data sources that need AWS: type → name → attributes. */
export type KnownData = Record<string, Record<string, Record<string, Value>>>;

export interface Instance {
  /** The instance key: count index or for_each key; null for a single instance. */
  key: string | number | null;
  args: Record<string, Value>;
}

export class EvaluatedModule {
  readonly vars: Record<string, Value>;
  private readonly ev: Evaluator;
  private readonly localCache = new Map<string, Value>();
  private readonly resolving = new Set<string>();

  constructor(
    readonly mod: TfModule,
    inputs: Record<string, Value>,
    knownData: KnownData = {},
  ) {
    for (const k of Object.keys(inputs)) {
      if (!mod.variables.has(k)) throw new Error(`input "${k}" is not a variable of ${mod.dir}`);
    }
    const base = new Evaluator({}, mod.dir);
    this.vars = {};
    for (const [name, blk] of mod.variables) {
      const dflt = blk.body.attributes["default"];
      if (name in inputs) this.vars[name] = inputs[name]!;
      else if (dflt) this.vars[name] = base.eval(dflt);
      else throw new Error(`variable "${name}" of ${mod.dir} is required and was not given`);
    }
    const locals = new Proxy({} as Record<string, Value>, {
      has: (_t, k) => typeof k === "string" && mod.locals.has(k),
      get: (_t, k) => (typeof k === "string" ? this.local(k) : undefined),
    });
    const data: Record<string, Value> = {};
    for (const [type, byName] of Object.entries(knownData)) data[type] = byName as Value;
    this.ev = new Evaluator(
      {
        var: this.vars,
        local: locals,
        path: { module: mod.dir, root: mod.dir },
        data: new Proxy(data as Record<string, Value>, {
          has: () => true,
          get: (t, type) =>
            typeof type === "string" && type in t ? t[type] : new Unknown(`data.${String(type)}`),
        }),
      },
      mod.dir,
    );
  }

  local(name: string): Value {
    if (this.localCache.has(name)) return this.localCache.get(name)!;
    const e = this.mod.locals.get(name);
    if (!e) throw new EvalError(`local.${name} is not defined`);
    if (this.resolving.has(name)) throw new EvalError(`local.${name} refers to itself`);
    this.resolving.add(name);
    const v = this.ev.eval(e);
    this.resolving.delete(name);
    this.localCache.set(name, v);
    return v;
  }

  eval(e: Expr): Value {
    return this.ev.eval(e);
  }

  /** Every instance of a resource ("type.name") or data source ("data.type.name"), count/for_each expanded. */
  instances(address: string): Instance[] {
    const isData = address.startsWith("data.");
    const key = isData ? address.slice(5) : address;
    const blk = (isData ? this.mod.data : this.mod.resources).get(key);
    if (!blk) throw new Error(`${address} is not declared in ${this.mod.dir}`);
    const { count, for_each: forEach } = blk.body.attributes;
    const bodyOf = (ev: Evaluator): Record<string, Value> => {
      const args = ev.body({ attributes: withoutMeta(blk.body.attributes), blocks: blk.body.blocks });
      return args;
    };
    if (count) {
      const n = this.ev.eval(count);
      if (typeof n !== "number") throw new EvalError(`${address}: count is not known (${spell(n)})`);
      return Array.from({ length: n }, (_, i) => ({
        key: i,
        args: bodyOf(this.ev.with({ count: { index: i } })),
      }));
    }
    if (forEach) {
      const coll = this.ev.eval(forEach);
      if (coll instanceof Unknown) throw new EvalError(`${address}: for_each is not known (${coll.ref})`);
      const entries: [string, Value][] = Array.isArray(coll)
        ? coll.map((v) => [spell(v), v])
        : Object.entries(coll as Record<string, Value>);
      return entries.map(([k, v]) => ({
        key: k,
        args: bodyOf(this.ev.with({ each: { key: k, value: v } })),
      }));
    }
    return [{ key: null, args: bodyOf(this.ev) }];
  }

  /** The arguments of a resource that must exist exactly once for these inputs. */
  one(address: string): Record<string, Value> {
    const all = this.instances(address);
    if (all.length !== 1) throw new Error(`${address}: expected one instance, found ${all.length}`);
    return all[0]!.args;
  }
}

function withoutMeta(attrs: Record<string, Expr>): Record<string, Expr> {
  const out: Record<string, Expr> = {};
  for (const [k, v] of Object.entries(attrs)) {
    if (k !== "count" && k !== "for_each" && k !== "depends_on" && k !== "provider") out[k] = v;
  }
  return out;
}

export interface Statement {
  sid: string;
  effect: "Allow" | "Deny";
  actions: string[];
  resources: string[];
  conditions: { test: string; variable: string; values: string[] }[];
}

/** An aws_iam_policy_document data source as a list of statements, ARNs spelled out. */
export function policyStatements(m: EvaluatedModule, name: string): Statement[] {
  const doc = m.one(`data.aws_iam_policy_document.${name}`);
  const stmts = (doc["statement"] ?? []) as Record<string, Value>[];
  return stmts.map((s) => ({
    sid: typeof s["sid"] === "string" ? s["sid"] : "",
    effect: s["effect"] === "Deny" ? "Deny" : "Allow",
    actions: ((s["actions"] ?? []) as Value[]).map(spell),
    resources: ((s["resources"] ?? []) as Value[]).map(spell),
    conditions: ((s["condition"] ?? []) as Record<string, Value>[]).map((c) => ({
      test: spell(c["test"]!),
      variable: spell(c["variable"]!),
      values: (c["values"] as Value[]).map(spell),
    })),
  }));
}
