/**
 * The set of pools one control plane serves (DESIGN §6, "many pools"): one hash in Redis, pool
 * name → entry (labels, state, who and when). Each pool keeps its own `wp:{pool}:*` keys and
 * desired state; the registry only says which pools exist, how they are labelled (a reconciler
 * may serve a selection by label) and which are being deleted (drained to zero, then removed).
 * The registry is one key in one slot, so nothing here is atomic with a pool's own keys: deletion
 * is two-step (mark, then remove once the pool is empty), like a Kubernetes finalizer.
 */
import type { Redis } from "ioredis";
import { assertPoolName, REGISTRY_KEY } from "../keys/index.js";
import { LuaScripts } from "../util/index.js";

export type PoolLifecycle = "active" | "deleting";

export interface PoolEntry {
  name: string;
  labels: Record<string, string>;
  state: PoolLifecycle;
  /** Redis TIME (ms). */
  createdAt: number;
  createdBy: string;
  deletingSince?: number;
  deletingBy?: string;
}

const LABEL_KEY = /^[a-z0-9]([a-z0-9._/-]{0,61}[a-z0-9])?$/;
const LABEL_VALUE = /^([A-Za-z0-9]([A-Za-z0-9._-]{0,61}[A-Za-z0-9])?)?$/;

/** Parses `k=v` labels (flags) into a map; every bad one is named with the rule it breaks. */
export function parseLabels(items: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  const problems: string[] = [];
  for (const item of items) {
    const i = item.indexOf("=");
    if (i <= 0) {
      problems.push(`${JSON.stringify(item)}: expected key=value`);
      continue;
    }
    const k = item.slice(0, i);
    const v = item.slice(i + 1);
    if (!LABEL_KEY.test(k)) problems.push(`${JSON.stringify(k)}: a label key must match ${LABEL_KEY.source}`);
    else if (!LABEL_VALUE.test(v))
      problems.push(`${k}: value ${JSON.stringify(v)} must match ${LABEL_VALUE.source}`);
    else if (k in out && out[k] !== v) problems.push(`${k}: given twice with different values`);
    else out[k] = v;
  }
  if (problems.length > 0) throw new Error(`invalid label(s): ${problems.join("; ")}`);
  return out;
}

/** True when `labels` has every `k=v` of `selector` (an empty selector matches every pool). */
export function matchesSelector(labels: Record<string, string>, selector: Record<string, string>): boolean {
  return Object.entries(selector).every(([k, v]) => labels[k] === v);
}

type Script = "mark-deleting";
let scripts: LuaScripts<Script> | undefined;

export class PoolRegistry {
  readonly key = REGISTRY_KEY;

  constructor(private readonly redis: Redis) {
    scripts ??= new LuaScripts<Script>("pkg/pools/lua");
  }

  /** Registers a pool; "exists" (and nothing changed) when the name is taken. */
  async create(
    name: string,
    o: { labels?: Record<string, string>; who: string },
  ): Promise<"created" | "exists"> {
    assertPoolName(name);
    const [s, us] = await this.redis.time();
    const entry: Omit<PoolEntry, "name"> = {
      labels: o.labels ?? {},
      state: "active",
      createdAt: Number(s) * 1000 + Math.floor(Number(us) / 1000),
      createdBy: o.who,
    };
    const set = await this.redis.hsetnx(this.key, name, JSON.stringify(entry));
    return set === 1 ? "created" : "exists";
  }

  async get(name: string): Promise<PoolEntry | undefined> {
    const raw = await this.redis.hget(this.key, name);
    return raw === null ? undefined : toEntry(name, raw);
  }

  /** Every registered pool, by name. */
  async list(): Promise<PoolEntry[]> {
    const all = await this.redis.hgetall(this.key);
    return Object.entries(all)
      .map(([name, raw]) => toEntry(name, raw))
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  /** The pools a reconciler serves: by name (`--pools a,b`), by label selector, or all. */
  async select(
    o: { names?: readonly string[]; selector?: Record<string, string> } = {},
  ): Promise<PoolEntry[]> {
    const names = o.names && o.names.length > 0 ? new Set(o.names) : undefined;
    return (await this.list()).filter(
      (e) => (!names || names.has(e.name)) && matchesSelector(e.labels, o.selector ?? {}),
    );
  }

  /** Marks a pool deleting; undefined when it is not registered. */
  async markDeleting(name: string, who: string): Promise<PoolEntry | undefined> {
    const r = (await scripts!.run(this.redis, "mark-deleting", [this.key], [name, who])) as [number, string?];
    return r[0] === 1 && r[1] ? toEntry(name, r[1]) : undefined;
  }

  /** Removes the entry (the pool's own keys are the caller's to clear first). */
  async remove(name: string): Promise<boolean> {
    return (await this.redis.hdel(this.key, name)) === 1;
  }
}

function toEntry(name: string, raw: string): PoolEntry {
  try {
    const e = JSON.parse(raw) as Partial<PoolEntry>;
    return {
      name,
      labels: e.labels && typeof e.labels === "object" ? e.labels : {},
      state: e.state === "deleting" ? "deleting" : "active",
      createdAt: Number(e.createdAt ?? 0),
      createdBy: String(e.createdBy ?? "unknown"),
      ...(e.deletingSince !== undefined ? { deletingSince: Number(e.deletingSince) } : {}),
      ...(e.deletingBy !== undefined ? { deletingBy: String(e.deletingBy) } : {}),
    };
  } catch {
    // A hand-edited entry that is not JSON: the pool exists; treat it as active with no labels.
    return { name, labels: {}, state: "active", createdAt: 0, createdBy: "unknown" };
  }
}
