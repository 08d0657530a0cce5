/**
 * ConfigStore knows the desired state as Redis keeps it: the `config` key (raw JSON), its
 * `config:history` stream (every accepted and rejected value, with who and why) and the
 * `config` event that wakes the reconciler. Writes are compare-and-set in one Lua script: a
 * concurrent change is refused, never silently overwritten; nothing invalid is ever written.
 */
import type { Redis } from "ioredis";
import type { PoolKeys } from "../keys/index.js";
import { LuaScripts } from "../util/index.js";
import { parseDesiredState } from "./parse.js";
import { DEFAULT_DESIRED, type DesiredState } from "./types.js";
import { validateDesiredState, type ConfigError } from "./validate.js";

export type ConfigRead =
  | { state: "missing" }
  | { state: "valid"; value: DesiredState; raw: string }
  | { state: "invalid"; errors: ConfigError[]; raw: string };

export interface HistoryEntry {
  /** Stream id; its first part is the Redis TIME (ms) of the entry. */
  id: string;
  atMs: number;
  result: "accepted" | "rejected";
  /** The raw value the entry is about (what was written, or what was found in the key). */
  after: string;
  /** The raw value it replaced, where known (writes through `write`). */
  before?: string;
  who?: string;
  why?: string;
  errors?: ConfigError[];
}

export type WriteResult =
  | { ok: true; written: boolean; raw: string; historyId?: string }
  | { ok: false; reason: "invalid"; errors: ConfigError[] }
  | { ok: false; reason: "conflict"; currentRaw: string | null };

export interface WriteOptions {
  /** The raw value the caller read (`read().raw`), or null when it read the key as missing. */
  expectedRaw: string | null;
  who: string;
  reason: string;
}

export interface ConfigStoreOptions {
  /** Approximate cap of `config:history` (XADD MAXLEN ~). */
  historyMaxLen?: number;
  /** Approximate cap of `events`, as docs/redis-contract.md fixes it. */
  eventsMaxLen?: number;
}

export class ConfigStore {
  private readonly historyMaxLen: number;
  private readonly eventsMaxLen: number;

  constructor(
    private readonly redis: Redis,
    private readonly keys: PoolKeys,
    opts: ConfigStoreOptions = {},
  ) {
    this.historyMaxLen = opts.historyMaxLen ?? 1_000;
    this.eventsMaxLen = opts.eventsMaxLen ?? 10_000;
    scripts().define(redis);
  }

  async read(): Promise<ConfigRead> {
    const raw = await this.redis.get(this.keys.config);
    if (raw === null) return { state: "missing" };
    const r = parseDesiredState(raw);
    return r.ok ? { state: "valid", value: r.value, raw } : { state: "invalid", errors: r.errors, raw };
  }

  /**
   * Validates, then sets the key only if it still holds `expectedRaw`; appends the history entry
   * and the `config` event in the same script. The stored value is the full normalised document
   * (defaults written out), so a GET shows exactly what is in force. A string is parsed as JSON.
   */
  async write(input: unknown, opts: WriteOptions): Promise<WriteResult> {
    const v = typeof input === "string" ? parseDesiredState(input) : validateDesiredState(input);
    if (!v.ok) return { ok: false, reason: "invalid", errors: v.errors };
    const raw = JSON.stringify(v.value);
    const reply = (await scripts().run(
      this.redis,
      "config-set",
      [this.keys.config, this.keys.configHistory, this.keys.events],
      [
        opts.expectedRaw === null ? "0" : "1",
        opts.expectedRaw ?? "",
        raw,
        opts.who,
        opts.reason,
        this.historyMaxLen,
        this.eventsMaxLen,
      ],
    )) as [number, (string | null)?];
    if (reply[0] === -1) return { ok: false, reason: "conflict", currentRaw: reply[1] ?? null };
    if (reply[0] === 0) return { ok: true, written: false, raw };
    return { ok: true, written: true, raw, historyId: String(reply[1]) };
  }

  /**
   * Read-modify-write with the compare-and-set, retried on conflict: `change` gets the value in
   * force (defaults when the key is missing) and returns the new document. Refuses to patch an
   * invalid value (fields could be lost silently): write a whole document then.
   */
  async update(
    change: (current: DesiredState) => unknown,
    opts: { who: string; reason: string; attempts?: number },
    defaults: DesiredState = DEFAULT_DESIRED,
  ): Promise<WriteResult> {
    for (let attempt = 1; ; attempt++) {
      const cur = await this.read();
      if (cur.state === "invalid") return { ok: false, reason: "invalid", errors: cur.errors };
      const base = cur.state === "valid" ? cur.value : defaults;
      const expectedRaw = cur.state === "valid" ? cur.raw : null;
      const r = await this.write(change(structuredClone(base)), {
        expectedRaw,
        who: opts.who,
        reason: opts.reason,
      });
      if (r.ok || r.reason !== "conflict" || attempt >= (opts.attempts ?? 3)) return r;
    }
  }

  /** Records a value found invalid in the key, once per distinct value. Returns the id or null. */
  async recordRejection(
    raw: string,
    errors: ConfigError[],
    opts: { who?: string; why?: string } = {},
  ): Promise<string | null> {
    return this.append("rejected", raw, [
      "who",
      opts.who ?? "unknown (direct write to the key)",
      "why",
      opts.why ?? "invalid desired state; the last good one stays in force",
      "errors",
      JSON.stringify(errors),
    ]);
  }

  /** Records a value accepted from the key (e.g. a plain SET), once per distinct value. */
  async recordAccepted(
    raw: string,
    who: string,
    why: string,
    opts: { before?: string } = {},
  ): Promise<string | null> {
    const extra = ["who", who, "why", why];
    if (opts.before !== undefined) extra.push("before", opts.before);
    return this.append("accepted", raw, extra);
  }

  /** The newest `n` history entries, newest first. */
  async history(n = 20): Promise<HistoryEntry[]> {
    const rows = (await this.redis.xrevrange(this.keys.configHistory, "+", "-", "COUNT", n)) as [
      string,
      string[],
    ][];
    return rows.map(([id, fields]) => toEntry(id, fields));
  }

  /**
   * The newest accepted value still valid under today's rules and not rejected since (a value
   * written through ctl, then refused by the reconciler because ECS lacks its task definition):
   * a cold start's "last good".
   */
  async lastAccepted(scan = 200): Promise<{ value: DesiredState; raw: string; atMs: number } | undefined> {
    const rejectedLater = new Set<string>();
    for (const e of await this.history(scan)) {
      if (e.result === "rejected") {
        rejectedLater.add(e.after);
        continue;
      }
      if (rejectedLater.has(e.after)) continue;
      const r = parseDesiredState(e.after);
      if (r.ok) return { value: r.value, raw: e.after, atMs: e.atMs };
    }
    return undefined;
  }

  private async append(
    result: "accepted" | "rejected",
    raw: string,
    extra: string[],
  ): Promise<string | null> {
    const id = await scripts().run(
      this.redis,
      "history-append",
      [this.keys.configHistory],
      [this.historyMaxLen, result, raw, ...extra],
    );
    return id === null ? null : String(id);
  }
}

function toEntry(id: string, fields: string[]): HistoryEntry {
  const f = new Map<string, string>();
  for (let i = 0; i + 1 < fields.length; i += 2) f.set(fields[i]!, fields[i + 1]!);
  const e: HistoryEntry = {
    id,
    atMs: Number(id.split("-")[0]),
    result: f.get("result") === "rejected" ? "rejected" : "accepted",
    after: f.get("after") ?? "",
  };
  for (const k of ["before", "who", "why"] as const) {
    const v = f.get(k);
    if (v !== undefined) e[k] = v;
  }
  const errors = f.get("errors");
  if (errors !== undefined) {
    try {
      e.errors = JSON.parse(errors) as ConfigError[];
    } catch {
      e.errors = [{ field: "$", rule: "json", message: errors }];
    }
  }
  return e;
}

// Scripts: one file each under lua/, the key count in the name (pkg/util LuaScripts). Read on
// first use (not at import), so importing pkg/config for its types or validation touches no file.
let lua: LuaScripts<"config-set" | "history-append"> | undefined;
function scripts(): LuaScripts<"config-set" | "history-append"> {
  return (lua ??= new LuaScripts("pkg/config/lua"));
}
