import type { Redis } from "ioredis";
import type { PoolKeys } from "../keys/index.js";
import type { Logger } from "../log/index.js";

export type Wake = "event" | "resync" | "stop";

/** Event types the reconciler writes itself; they never wake it (it already knows). */
const OWN_EVENTS = new Set(["cordon"]);

export interface TriggerOptions {
  /** A dedicated connection for XREAD BLOCK (a blocked connection serves nothing else). */
  blocking: Redis;
  /** A dedicated connection for keyspace notifications on the `config` key, or none. */
  subscriber?: Redis;
  keys: PoolKeys;
  log: Logger;
  blockMs?: number;
  /** Sees every stream entry read (type and the entry id's time), e.g. claims for the adaptive policy. */
  onEntries?: (entries: { type: string; atMs: number; claimId?: string; taskId?: string }[]) => void;
}

/**
 * Says when to look again: on a jittered resync tick, or within milliseconds of an entry in the
 * pool's `events` stream (claim, miss, release, expire, register, config) or of a plain `SET` of
 * the `config` key (keyspace notification). Events only say *when*; the pass re-observes
 * everything, so a lost event costs one resync interval at most.
 */
export class PassTrigger {
  private pending = false;
  private waiter: (() => void) | undefined;
  private stopped = false;
  private loop: Promise<void> | undefined;
  private lastId = "$";
  /** Events seen (for status and tests): stream entries and keyspace notifications. */
  eventsSeen = 0;

  constructor(private readonly opts: TriggerOptions) {}

  async start(): Promise<void> {
    try {
      const last = (await this.opts.blocking.xrevrange(this.opts.keys.events, "+", "-", "COUNT", 1)) as [
        string,
        string[],
      ][];
      this.lastId = last[0]?.[0] ?? "0-0";
    } catch {
      this.lastId = "$";
    }
    this.loop = this.readLoop();
    if (this.opts.subscriber) await this.watchConfigKey(this.opts.subscriber);
  }

  /** Marks a pass as due now (lease gained, a pass that wants a follow-up). */
  poke(): void {
    this.pending = true;
    this.waiter?.();
  }

  /**
   * Resolves on the first of: a pending event, `timeoutMs` passing ("resync"), stop. The caller
   * passes the time left to its resync *deadline*, not a fresh interval: a fresh timer per wait
   * would let a steady stream of events postpone the resync forever.
   */
  wait(timeoutMs: number): Promise<Wake> {
    if (this.stopped) return Promise.resolve("stop");
    if (this.pending) {
      this.pending = false;
      return Promise.resolve("event");
    }
    return new Promise<Wake>((resolve) => {
      const timer = setTimeout(
        () => {
          this.waiter = undefined;
          resolve("resync");
        },
        Math.max(0, timeoutMs),
      );
      this.waiter = () => {
        clearTimeout(timer);
        this.waiter = undefined;
        this.pending = false;
        resolve(this.stopped ? "stop" : "event");
      };
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.waiter?.();
    // Unblocks the pending XREAD at once; the connection belongs to this trigger.
    this.opts.blocking.disconnect();
    this.opts.subscriber?.disconnect();
    await this.loop;
  }

  private async readLoop(): Promise<void> {
    const { blocking, keys, log } = this.opts;
    while (!this.stopped) {
      try {
        const res = (await blocking.xread(
          "COUNT",
          1000,
          "BLOCK",
          this.opts.blockMs ?? 5_000,
          "STREAMS",
          keys.events,
          this.lastId,
        )) as [string, [string, string[]][]][] | null;
        const entries = res?.[0]?.[1] ?? [];
        if (entries.length === 0) continue;
        this.lastId = entries[entries.length - 1]![0];
        this.opts.onEntries?.(toDemandEntries(entries));
        const relevant = entries.filter(([, f]) => !OWN_EVENTS.has(fieldOf(f, "type") ?? ""));
        if (relevant.length > 0) {
          this.eventsSeen += relevant.length;
          this.poke();
        }
      } catch (err) {
        if (this.stopped) return;
        log.debug({ err: String(err) }, "events read failed; retrying");
        await new Promise((r) => setTimeout(r, 250));
      }
    }
  }

  /**
   * A plain `SET` of the config key emits no stream entry, so the trigger also listens to the
   * key's keyspace notifications. They need `notify-keyspace-events` to hold K, $ and g on the
   * server. The trigger adds them with CONFIG SET where allowed; where CONFIG is refused (an ACL
   * user without it, ElastiCache) it cannot tell whether they are on and subscribes anyway, and
   * says what to check (docs/reconciler.md, "Triggers").
   */
  private async watchConfigKey(sub: Redis): Promise<void> {
    const { keys, log } = this.opts;
    const without =
      "without them a plain SET of the config key is seen at the next resync; `warmpool ctl config set` is seen at once";
    let flags: string | undefined;
    try {
      [, flags = ""] = (await sub.config("GET", "notify-keyspace-events")) as [string, string];
    } catch (err) {
      log.info(
        { err: String(err) },
        `cannot read notify-keyspace-events (CONFIG GET refused, e.g. an ACL user without +config): subscribing to the config key's notifications anyway; they arrive only if the server's notify-keyspace-events includes K, $ and g (ElastiCache: the parameter group; redis-server: --notify-keyspace-events K$g); ${without}`,
      );
    }
    const has = (c: string): boolean =>
      flags !== undefined && (flags.includes(c) || (c === "$" && flags.includes("A")));
    if (flags !== undefined && (!has("K") || !has("$") || !has("g"))) {
      const merged = [...new Set((flags + "K$g").split(""))].join("");
      try {
        await sub.config("SET", "notify-keyspace-events", merged);
      } catch (err) {
        log.warn(
          { err: String(err), notifyKeyspaceEvents: flags },
          `keyspace notifications of the config key are off: notify-keyspace-events is "${flags}" (K, $ and g needed) and CONFIG SET was refused; set it to "${merged}" on the server (ElastiCache: the parameter group); ${without}`,
        );
      }
    }
    const db = (sub.options.db as number | undefined) ?? 0;
    const channel = `__keyspace@${db}__:${keys.config}`;
    sub.on("message", (ch: string) => {
      if (ch === channel) {
        this.eventsSeen++;
        this.poke();
      }
    });
    try {
      await sub.subscribe(channel);
    } catch (err) {
      log.warn({ err: String(err) }, "subscribing to config key notifications failed");
    }
  }
}

/** Stream entries as the sizer and the fast refill read them: type, time (from the id), claimId, taskId. */
export function toDemandEntries(
  entries: [string, string[]][],
): { type: string; atMs: number; claimId?: string; taskId?: string }[] {
  return entries.map(([id, f]) => {
    const claimId = fieldOf(f, "claimId");
    const taskId = fieldOf(f, "taskId");
    return {
      type: fieldOf(f, "type") ?? "",
      atMs: Number(id.split("-")[0]),
      ...(claimId ? { claimId } : {}),
      ...(taskId ? { taskId } : {}),
    };
  });
}

function fieldOf(flat: string[], name: string): string | undefined {
  for (let i = 0; i + 1 < flat.length; i += 2) if (flat[i] === name) return flat[i + 1];
  return undefined;
}
