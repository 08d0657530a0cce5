/**
 * The pool's Redis records between full reads, kept the way the task cache keeps ECS: a pass reads
 * only what changed. Every script that changes a record outside the reconciler (claim, register,
 * ready, release, heartbeat expiry, a bridge's own cordon) appends an entry naming the task to the
 * pool's `events` stream in the same atomic step; the reconciler's own writes (launch records,
 * forgets, orphan marks) are `touch`ed. So one script (records-4+.lua) reads, atomically, the
 * stream after the cache's position and the records those entries and touches name: O(changes).
 * Every task key it reads is declared (Redis Cluster): the touched ids up front, the ids the
 * stream names on the script's request (a second call), every id of the last full read as a hint
 * for the next full read.
 *
 * A full read (every record, like snapshot-3) happens on the first read, after `invalidate()`
 * (a new lease term, the pool's state reborn in Redis), when the stream no longer holds the cache's
 * position (trimmed, or lost with the data) or has too many entries after it, and at least every
 * `fullEveryMs`, which also picks up records edited by hand (no entry names them).
 *
 * Leases: heartbeats move a claim's expiry in `claims` without an entry, so a cached expiry goes
 * stale. A cached record therefore carries `leaseExpiresAtMs` only when the read found its lease
 * already past (the planner expires it; the script rechecks Redis TIME), and the read returns the
 * earliest lease still to come, for the loop's wake-up.
 */
import type { Redis } from "ioredis";
import { toTaskRecord } from "../claims/index.js";
import type { PoolKeys } from "../keys/index.js";
import type { TaskRecord } from "../plan/index.js";
import { LuaScripts, type ExtraKey } from "../util/index.js";

export interface RecordCacheOptions {
  redis: Redis;
  keys: PoolKeys;
  /** A full read at least this often (and on the first read and after invalidate()). */
  fullEveryMs: number;
  /** More stream entries than this since the last read: a full read is cheaper. */
  maxEntries?: number;
}

export interface RecordRead {
  records: TaskRecord[];
  waiting: number;
  /** Redis TIME of the read (ms). */
  nowMs: number;
  kind: "full" | "delta";
  /** Records read from Redis this time (all of them on a full read). */
  read: number;
  /** The earliest claim lease still to come (Redis TIME, ms), if any. */
  nextLeaseDueMs: number | undefined;
}

let scripts: LuaScripts<"records"> | undefined;

const MAX_ENTRIES = 5_000;

export class RecordCache {
  private readonly records = new Map<string, TaskRecord>();
  /** claimId → taskId of the claimed records, to mark expired leases. */
  private readonly byClaim = new Map<string, string>();
  /** Records carrying an expired lease from the last read. */
  private expiredMarked = new Set<string>();
  /** The stream id the cache is consistent with; undefined = the next read is full. */
  private since: string | undefined;
  private lastFullAtMs = -Infinity;
  /** Every id of the last full read: declared up front when the next one comes. */
  private knownIds: readonly ExtraKey[] = [];
  /** Records touched, with the touch's sequence number (a touch during a read is kept for the next). */
  private readonly touched = new Map<string, number>();
  private touchSeq = 0;
  /** Reads so far, by kind, and records read (bench, tests, status). */
  readonly stats = { full: 0, delta: 0, resets: 0, recordsRead: 0 };

  constructor(private readonly o: RecordCacheOptions) {
    scripts ??= new LuaScripts<"records">("pkg/observe/lua");
  }

  /** The next read is a full one (a new lease term; the pool's state reborn in Redis). */
  invalidate(): void {
    this.since = undefined;
  }

  /** Records this process wrote itself (no stream entry names them): read again next time. */
  touch(ids: Iterable<string>): void {
    for (const id of ids) this.touched.set(id, ++this.touchSeq);
  }

  get size(): number {
    return this.records.size;
  }

  async read(nowMs = Date.now()): Promise<RecordRead> {
    const full = this.since === undefined || nowMs - this.lastFullAtMs >= this.o.fullEveryMs;
    const sentSeq = this.touchSeq;
    let reply = await this.run(full ? "" : this.since!, full ? this.knownIds : [...this.touched.keys()]);
    if (reply[0] === "reset") {
      this.stats.resets++;
      reply = await this.run("", this.knownIds);
    }
    const [kind, lastId, waiting, redisNow, expired, nextLease] = reply as [
      "full" | "delta",
      string,
      number,
      number,
      string[],
      string,
      ...[string, string[]][],
    ];
    const rows = reply.slice(6) as [string, string[]][];
    if (kind === "full") {
      this.records.clear();
      this.byClaim.clear();
      this.expiredMarked.clear();
      this.lastFullAtMs = nowMs;
      this.knownIds = rows.map(([id]) => ["task", id] as const);
    }
    // What was touched before the read was sent is read now (a full read reads everything).
    for (const [id, seq] of this.touched) if (seq <= sentSeq) this.touched.delete(id);
    for (const [taskId, flat] of rows) {
      const h: Record<string, string> = {};
      for (let j = 0; j + 1 < flat.length; j += 2) h[flat[j]!] = flat[j + 1]!;
      this.put(taskId, flat.length > 0 ? toTaskRecord(taskId, h) : undefined);
    }
    this.markExpired(expired, Number(redisNow));
    this.since = lastId;
    this.stats[kind]++;
    this.stats.recordsRead += rows.length;
    const next = nextLease === "" ? undefined : Number(nextLease);
    return {
      records: [...this.records.values()],
      waiting: Number(waiting),
      nowMs: Number(redisNow),
      kind,
      read: rows.length,
      nextLeaseDueMs: next !== undefined && Number.isFinite(next) ? next : undefined,
    };
  }

  private run(since: string, ids: readonly (string | ExtraKey)[]): Promise<unknown[]> {
    const k = this.o.keys;
    return scripts!.runDeclared(
      this.o.redis,
      "records",
      [k.tasks, k.claims, k.waiting, k.events],
      [since, this.o.maxEntries ?? MAX_ENTRIES],
      (e) => k.task(e[1]),
      ids.map((id): ExtraKey => (typeof id === "string" ? ["task", id] : id)),
    ) as Promise<unknown[]>;
  }

  /** A record as read (without a lease: see markExpired), or its absence. */
  private put(taskId: string, rec: TaskRecord | undefined): void {
    const old = this.records.get(taskId);
    if (old?.claimId !== undefined) this.byClaim.delete(old.claimId);
    this.expiredMarked.delete(taskId);
    // A record in a state the pool does not know is never planned (PoolStore.observe does the same).
    if (!rec) {
      this.records.delete(taskId);
      return;
    }
    delete rec.leaseExpiresAtMs;
    this.records.set(taskId, rec);
    if (rec.state === "claimed" && rec.claimId !== undefined) this.byClaim.set(rec.claimId, taskId);
  }

  /** Only leases found past carry an expiry: a cached one may have been heartbeated since. */
  private markExpired(flat: string[], nowMs: number): void {
    const marked = new Set<string>();
    for (let i = 0; i + 1 < flat.length; i += 2) {
      const taskId = this.byClaim.get(flat[i]!);
      const rec = taskId === undefined ? undefined : this.records.get(taskId);
      const at = Number(flat[i + 1]);
      if (!rec || !Number.isFinite(at) || at > nowMs) continue;
      this.records.set(taskId!, { ...rec, leaseExpiresAtMs: at });
      marked.add(taskId!);
    }
    for (const id of this.expiredMarked) {
      if (marked.has(id)) continue;
      const rec = this.records.get(id);
      if (!rec) continue;
      const { leaseExpiresAtMs: _, ...rest } = rec;
      this.records.set(id, rest);
    }
    this.expiredMarked = marked;
  }
}
