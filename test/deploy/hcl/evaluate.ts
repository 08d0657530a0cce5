/**
 * Evaluates HCL expressions the way Terraform would at plan time, for what can be known offline:
 * variables, locals, literals, operators and the built-in functions the deploy files use.
 * Anything only AWS knows (a resource's ARN, a data source nobody supplied) becomes an `Unknown`
 * that remembers its source text, so a test can still assert *which* reference a policy names.
 * Inside a string or a jsonencode() an Unknown is spelled `${<its source>}`, as in the file.
 */
import { readFileSync } from "node:fs";
import type { Block, Body, Expr } from "./types.js";

export class Unknown {
  constructor(readonly ref: string) {}
  toString(): string {
    return `\${${this.ref}}`;
  }
}

export type Value = string | number | boolean | null | Unknown | Value[] | { [key: string]: Value };

export type Scope = Record<string, Value | ((name: string) => Value)>;

export class EvalError extends Error {}

const isObject = (v: Value): v is { [key: string]: Value } =>
  typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof Unknown);

/** Where a value made of Unknowns is needed as text: `${ref}` stands in for each one. */
export function spell(v: Value): string {
  if (v instanceof Unknown) return v.toString();
  if (v === null) return "null";
  if (typeof v === "object") return JSON.stringify(toJson(v));
  return String(v);
}

/** A value as plain JSON data, each Unknown spelled `${ref}`. */
export function plain(v: Value): unknown {
  return toJson(v);
}

function toJson(v: Value): unknown {
  if (v instanceof Unknown) return v.toString();
  if (Array.isArray(v)) return v.map(toJson);
  if (isObject(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, toJson(x)]));
  return v;
}

function asList(v: Value, what: string): Value[] {
  if (Array.isArray(v)) return v;
  if (isObject(v)) return Object.values(v);
  throw new EvalError(`${what}: expected a list, got ${spell(v)}`);
}

function asString(v: Value, what: string): string {
  if (typeof v === "string") return v;
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  if (v instanceof Unknown) return v.toString();
  throw new EvalError(`${what}: expected a string, got ${spell(v)}`);
}

const FUNCTIONS: Record<string, (args: Value[], dir: string) => Value> = {
  coalesce: (a) => a.find((v) => v !== null && v !== "") ?? null,
  join: (a) =>
    asList(a[1]!, "join")
      .map((v) => asString(v, "join"))
      .join(asString(a[0]!, "join")),
  concat: (a) => a.flatMap((v) => asList(v, "concat")),
  merge: (a) => Object.assign({}, ...a.filter((v) => v !== null)),
  tostring: (a) => (a[0] === null || a[0] instanceof Unknown ? a[0]! : asString(a[0]!, "tostring")),
  // Sensitivity is Terraform's bookkeeping; the value is the value.
  nonsensitive: (a) => a[0]!,
  tonumber: (a) => Number(a[0]),
  toset: (a) => [...new Set(asList(a[0]!, "toset"))],
  tolist: (a) => asList(a[0]!, "tolist"),
  keys: (a) => (isObject(a[0]!) ? Object.keys(a[0]).sort() : []),
  values: (a) =>
    isObject(a[0]!)
      ? Object.keys(a[0])
          .sort()
          .map((k) => (a[0] as Record<string, Value>)[k]!)
      : [],
  sort: (a) => [...asList(a[0]!, "sort")].sort(),
  element: (a) => {
    const list = asList(a[0]!, "element");
    return list[Number(a[1]) % list.length] ?? null;
  },
  split: (a) => asString(a[1]!, "split").split(asString(a[0]!, "split")),
  contains: (a) => asList(a[0]!, "contains").includes(a[1]!),
  length: (a) => (typeof a[0] === "string" ? a[0].length : asList(a[0]!, "length").length),
  lower: (a) => asString(a[0]!, "lower").toLowerCase(),
  upper: (a) => asString(a[0]!, "upper").toUpperCase(),
  // Plain substring replacement (Terraform reads a "/…/" pattern as a regex; not supported here).
  replace: (a) =>
    asString(a[0]!, "replace").split(asString(a[1]!, "replace")).join(asString(a[2]!, "replace")),
  urlencode: (a) => encodeURIComponent(asString(a[0]!, "urlencode")),
  jsonencode: (a) => JSON.stringify(toJson(a[0]!)),
  jsondecode: (a) => JSON.parse(asString(a[0]!, "jsondecode")) as Value,
  base64encode: (a) => Buffer.from(asString(a[0]!, "base64encode")).toString("base64"),
  strcontains: (a) => asString(a[0]!, "strcontains").includes(asString(a[1]!, "strcontains")),
  alltrue: (a) => asList(a[0]!, "alltrue").every((v) => v === true),
  format: (a) => {
    let i = 1;
    return asString(a[0]!, "format").replace(/%[sd]/g, () => asString(a[i++] ?? "", "format"));
  },
  /** Renders `${name}` placeholders only; a directive or expression in the template is an error. */
  templatefile: (a, dir) => {
    const path = asString(a[0]!, "templatefile").replace(/^\$\{path\.module\}/, dir);
    const vars = a[1]!;
    if (!isObject(vars)) throw new EvalError("templatefile: variables must be an object");
    const text = readFileSync(path, "utf8");
    if (text.includes("%{")) throw new EvalError(`templatefile ${path}: directives are not supported`);
    return text.replace(/\$\{([^}]*)\}/g, (_m, name: string) => {
      if (!(name in vars)) throw new EvalError(`templatefile ${path}: \${${name}} is not a simple variable`);
      return asString(vars[name]!, `templatefile ${name}`);
    });
  },
};

export class Evaluator {
  /**
   * @param scope root names: `var`, `local` (a lazy getter), `data`, `path`, plus any the caller adds.
   * @param dir the module directory, for `${path.module}` in templatefile().
   */
  constructor(
    private readonly scope: Scope,
    private readonly dir: string,
  ) {}

  with(extra: Scope): Evaluator {
    return new Evaluator({ ...this.scope, ...extra }, this.dir);
  }

  eval(e: Expr): Value {
    switch (e.kind) {
      case "literal":
        return e.value;
      case "template": {
        const parts = e.parts.map((p) => (typeof p === "string" ? p : this.eval(p)));
        return parts.map((p) => (typeof p === "string" ? p : asString(p, e.src))).join("");
      }
      case "tuple":
        return e.items.map((i) => this.eval(i));
      case "object": {
        const out: Record<string, Value> = {};
        for (const { key, value } of e.items) {
          const k = key.kind === "variable" ? key.name : asString(this.eval(key), key.src);
          out[k] = this.eval(value);
        }
        return out;
      }
      case "variable":
        return this.root(e.name);
      case "attr":
        return this.get(this.eval(e.target), e.name, e.src);
      case "index": {
        const k = this.eval(e.key);
        if (k instanceof Unknown) return new Unknown(e.src);
        return this.get(this.eval(e.target), String(k), e.src);
      }
      case "splat":
        return new Unknown(e.src);
      case "paren":
        return this.eval(e.inner);
      case "call":
        return this.call(e.name, e.args, e.src);
      case "unary": {
        const v = this.eval(e.operand);
        if (v instanceof Unknown) return new Unknown(e.src);
        return e.op === "!" ? !v : -Number(v);
      }
      case "binary":
        return this.binary(e.op, this.eval(e.left), this.eval(e.right), e.src);
      case "conditional": {
        const t = this.eval(e.test);
        if (t instanceof Unknown) return new Unknown(e.src);
        return this.eval(t === true ? e.then : e.otherwise);
      }
      case "for":
        return this.forExpr(e);
    }
  }

  /** A body as Terraform sees it: attributes, nested blocks as lists, `dynamic` blocks expanded. */
  body(b: Body): Record<string, Value> {
    const out: Record<string, Value> = {};
    for (const [k, x] of Object.entries(b.attributes)) out[k] = this.eval(x);
    for (const blk of b.blocks) {
      for (const [type, value] of this.expandBlock(blk)) {
        const list = (out[type] ??= []) as Value[];
        list.push(value);
      }
    }
    return out;
  }

  private expandBlock(blk: Block): [string, Value][] {
    if (blk.type !== "dynamic") return [[blk.type, this.body(blk.body)]];
    const type = blk.labels[0]!;
    const forEach = blk.body.attributes["for_each"];
    const content = blk.body.blocks.find((c) => c.type === "content");
    if (!forEach || !content) throw new EvalError(`dynamic "${type}" needs for_each and content`);
    const coll = this.eval(forEach);
    if (coll instanceof Unknown) throw new EvalError(`dynamic "${type}": for_each is unknown (${coll.ref})`);
    const entries: [string, Value][] = Array.isArray(coll)
      ? coll.map((v, i) => [String(i), v])
      : isObject(coll)
        ? Object.entries(coll)
        : [];
    return entries.map(([key, value]) => [type, this.with({ [type]: { key, value } }).body(content.body)]);
  }

  private root(name: string): Value {
    const v = this.scope[name];
    if (v === undefined) return new Unknown(name);
    return typeof v === "function" ? (v as (n: string) => Value)(name) : v;
  }

  private get(target: Value, key: string, src: string): Value {
    if (target instanceof Unknown) return new Unknown(src);
    if (Array.isArray(target)) {
      const v = target[Number(key)];
      if (v === undefined) throw new EvalError(`${src}: index ${key} out of range`);
      return v;
    }
    if (isObject(target)) {
      if (!(key in target)) throw new EvalError(`${src}: no attribute "${key}"`);
      return target[key]!;
    }
    throw new EvalError(`${src}: cannot read "${key}" of ${spell(target)}`);
  }

  private call(name: string, args: Expr[], src: string): Value {
    if (name === "can" || name === "try") {
      for (const a of args) {
        try {
          const v = this.eval(a);
          return name === "can" ? true : v;
        } catch {
          /* try the next one */
        }
      }
      if (name === "can") return false;
      throw new EvalError(`${src}: no argument evaluated`);
    }
    const fn = FUNCTIONS[name];
    if (!fn) throw new EvalError(`${src}: function ${name}() is not known to the offline evaluator`);
    const values = args.map((a) => this.eval(a));
    // Functions that only shuffle their arguments keep Unknowns inside; the rest cannot.
    const passThrough = [
      "coalesce",
      "concat",
      "merge",
      "jsonencode",
      "toset",
      "tolist",
      "element",
      "tostring",
      "format",
      "nonsensitive",
    ];
    if (!passThrough.includes(name) && values.some((v) => v instanceof Unknown)) return new Unknown(src);
    return fn(values, this.dir);
  }

  private binary(op: string, l: Value, r: Value, src: string): Value {
    if (op === "&&" && l === false) return false;
    if (op === "||" && l === true) return true;
    if (l instanceof Unknown || r instanceof Unknown) return new Unknown(src);
    switch (op) {
      case "==":
        return JSON.stringify(l) === JSON.stringify(r);
      case "!=":
        return JSON.stringify(l) !== JSON.stringify(r);
      case "&&":
        return l === true && r === true;
      case "||":
        return l === true || r === true;
      case "<":
        return Number(l) < Number(r);
      case ">":
        return Number(l) > Number(r);
      case "<=":
        return Number(l) <= Number(r);
      case ">=":
        return Number(l) >= Number(r);
      case "+":
        return Number(l) + Number(r);
      case "-":
        return Number(l) - Number(r);
      case "*":
        return Number(l) * Number(r);
      case "/":
        return Number(l) / Number(r);
      case "%":
        return Number(l) % Number(r);
    }
    throw new EvalError(`${src}: unknown operator ${op}`);
  }

  private forExpr(e: Extract<Expr, { kind: "for" }>): Value {
    const coll = this.eval(e.collection);
    if (coll instanceof Unknown) return new Unknown(e.src);
    const entries: [Value, Value][] = Array.isArray(coll)
      ? coll.map((v, i) => [i, v])
      : isObject(coll)
        ? Object.entries(coll)
        : [];
    const asObject = e.key !== null;
    const list: Value[] = [];
    const obj: Record<string, Value> = {};
    for (const [k, v] of entries) {
      const inner = this.with({ [e.valueVar]: v, ...(e.keyVar ? { [e.keyVar]: k } : {}) });
      if (e.condition && inner.eval(e.condition) !== true) continue;
      if (asObject) obj[asString(inner.eval(e.key!), e.src)] = inner.eval(e.value);
      else list.push(inner.eval(e.value));
    }
    return asObject ? obj : list;
  }
}
