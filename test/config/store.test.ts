/**
 * ConfigStore and DesiredStateSource against a real redis-server: every assertion reads the
 * ground truth back from Redis (GET, XRANGE, XLEN), not from what the store returned.
 */
import { Redis } from "ioredis";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  ConfigStore,
  DEFAULT_DESIRED,
  DesiredStateSource,
  type WriteResult,
} from "../../pkg/config/index.js";
import { PoolKeys } from "../../pkg/keys/index.js";
import { startPrivateRedis, uniquePool, type PrivateRedis } from "../harness/index.js";

let server: PrivateRedis;
let redis: Redis;
let keys: PoolKeys;
let store: ConfigStore;

beforeAll(async () => {
  server = await startPrivateRedis();
  redis = new Redis(server.url);
});
afterAll(async () => {
  redis?.disconnect();
  await server?.stop();
});
beforeEach(() => {
  keys = new PoolKeys(uniquePool("cfg"));
  store = new ConfigStore(redis, keys);
});

const historyLen = (): Promise<number> => redis.xlen(keys.configHistory);
async function configEvents(): Promise<Record<string, string>[]> {
  const rows = (await redis.xrange(keys.events, "-", "+")) as [string, string[]][];
  return rows
    .map(
      ([, f]) =>
        Object.fromEntries(f.flatMap((_, i) => (i % 2 ? [] : [[f[i], f[i + 1]]]))) as Record<string, string>,
    )
    .filter((e) => e.type === "config");
}

describe("ConfigStore.read", () => {
  it("tells missing, valid, invalid and malformed apart", async () => {
    expect(await store.read()).toEqual({ state: "missing" });
    await redis.set(keys.config, '{"minWarm":8}');
    expect(await store.read()).toEqual({
      state: "valid",
      value: { ...DEFAULT_DESIRED, minWarm: 8 },
      raw: '{"minWarm":8}',
    });
    await redis.set(keys.config, '{"minWarm":8,"maxWarm":4}');
    const bad = await store.read();
    expect(bad).toMatchObject({ state: "invalid", raw: '{"minWarm":8,"maxWarm":4}' });
    expect(bad.state === "invalid" && bad.errors[0]).toMatchObject({ field: "minWarm", rule: "invariant" });
    await redis.set(keys.config, '{"minWarm":');
    const malformed = await store.read();
    expect(malformed.state === "invalid" && malformed.errors[0]!.rule).toBe("json");
  });
});

describe("ConfigStore.write", () => {
  it("writes the normalised document, a history entry and a config event", async () => {
    const r = await store.write({ minWarm: 8 }, { expectedRaw: null, who: "alice", reason: "more traffic" });
    expect(r).toMatchObject({ ok: true, written: true });
    const raw = await redis.get(keys.config);
    expect(JSON.parse(raw!)).toEqual({ ...DEFAULT_DESIRED, minWarm: 8 });
    const [entry] = await store.history(5);
    expect(entry).toMatchObject({ result: "accepted", who: "alice", why: "more traffic", after: raw });
    expect(entry!.before).toBeUndefined();
    expect(Math.abs(entry!.atMs - Date.now())).toBeLessThan(60_000);
    const events = await configEvents();
    expect(events).toHaveLength(1);
    expect(events[0]!.historyId).toBe(entry!.id);

    const r2 = await store.write('{"minWarm":9}', { expectedRaw: raw, who: "bob", reason: "even more" });
    expect(r2.ok).toBe(true);
    const [second] = await store.history(1);
    expect(second).toMatchObject({ who: "bob", before: raw, after: await redis.get(keys.config) });
  });

  it("refuses a write based on a stale read and leaves the key alone", async () => {
    await redis.set(keys.config, '{"minWarm":6}');
    const r = await store.write({ minWarm: 7 }, { expectedRaw: '{"minWarm":5}', who: "a", reason: "r" });
    expect(r).toEqual({ ok: false, reason: "conflict", currentRaw: '{"minWarm":6}' });
    const absent = await store.write({ minWarm: 7 }, { expectedRaw: null, who: "a", reason: "r" });
    expect(absent).toMatchObject({ ok: false, reason: "conflict" });
    expect(await redis.get(keys.config)).toBe('{"minWarm":6}');
    expect(await historyLen()).toBe(0);
    expect(await configEvents()).toHaveLength(0);
  });

  it("lets exactly one of two concurrent writers win", async () => {
    const raw = '{"minWarm":5}';
    await redis.set(keys.config, raw);
    const results = await Promise.all(
      [6, 7, 8, 9].map((m) =>
        store.write({ minWarm: m }, { expectedRaw: raw, who: `w${m}`, reason: "race" }),
      ),
    );
    const winners = results.filter((r): r is Extract<WriteResult, { ok: true }> => r.ok);
    expect(winners).toHaveLength(1);
    expect(results.filter((r) => !r.ok && r.reason === "conflict")).toHaveLength(3);
    expect(await redis.get(keys.config)).toBe(winners[0]!.raw);
    expect(await historyLen()).toBe(1);
  });

  it("rejects an invalid value before writing anything", async () => {
    await redis.set(keys.config, '{"minWarm":5}');
    const r = await store.write(
      { minWarm: 50, maxwarm: 1 },
      { expectedRaw: '{"minWarm":5}', who: "a", reason: "typo" },
    );
    expect(r.ok).toBe(false);
    expect(!r.ok && r.reason === "invalid" && r.errors.map((e) => `${e.field}/${e.rule}`).sort()).toEqual([
      "maxwarm/unknown-field",
      "minWarm/invariant",
    ]);
    const malformed = await store.write("{oops", { expectedRaw: '{"minWarm":5}', who: "a", reason: "r" });
    expect(!malformed.ok && malformed.reason).toBe("invalid");
    expect(await redis.get(keys.config)).toBe('{"minWarm":5}');
    expect(await historyLen()).toBe(0);
    expect(await configEvents()).toHaveLength(0);
  });

  it("writes nothing when the key already holds the value", async () => {
    const first = await store.write({}, { expectedRaw: null, who: "a", reason: "seed" });
    expect(first.ok).toBe(true);
    const raw = first.ok ? first.raw : "";
    const again = await store.write({}, { expectedRaw: raw, who: "a", reason: "again" });
    expect(again).toEqual({ ok: true, written: false, raw });
    expect(await historyLen()).toBe(1);
    expect(await configEvents()).toHaveLength(1);
  });

  it("update() retries on conflict so concurrent increments all land", async () => {
    const bump = (): Promise<WriteResult> =>
      store.update((cur) => ({ ...cur, minWarm: cur.minWarm + 1 }), {
        who: "ctl",
        reason: "bump",
        attempts: 20,
      });
    const results = await Promise.all([bump(), bump(), bump(), bump(), bump()]);
    expect(results.every((r) => r.ok)).toBe(true);
    expect(JSON.parse((await redis.get(keys.config))!).minWarm).toBe(DEFAULT_DESIRED.minWarm + 5);
    expect(await historyLen()).toBe(5);
  });

  it("writes the adaptive policy with its defaults written out; update() keeps them", async () => {
    const r = await store.write(
      { policy: "adaptive", adaptive: { targetHitRate: 0.99 } },
      { expectedRaw: null, who: "alice", reason: "follow demand" },
    );
    expect(r).toMatchObject({ ok: true, written: true });
    const stored = JSON.parse((await redis.get(keys.config))!);
    expect(stored).toEqual({
      ...DEFAULT_DESIRED,
      policy: "adaptive",
      adaptive: { windowSeconds: 120, targetHitRate: 0.99, scaleDownDelaySeconds: 600 },
    });
    // An older document without the new fields reads as static with the defaults.
    await redis.set(keys.config, '{"minWarm":6}');
    const read = await store.read();
    expect(read.state === "valid" && read.value).toMatchObject({
      policy: "static",
      adaptive: DEFAULT_DESIRED.adaptive,
    });
    const paused = await store.update((cur) => ({ ...cur, paused: true }), { who: "ctl", reason: "pause" });
    expect(paused.ok).toBe(true);
    expect(JSON.parse((await redis.get(keys.config))!)).toMatchObject({
      minWarm: 6,
      paused: true,
      policy: "static",
    });
  });

  it("refuses a bad adaptive block and leaves the key alone", async () => {
    await redis.set(keys.config, '{"minWarm":5}');
    const r = await store.write(
      { policy: "adaptive", adaptive: { targetHitRate: 1, windowSeconds: 0 } },
      { expectedRaw: '{"minWarm":5}', who: "a", reason: "typo" },
    );
    expect(!r.ok && r.reason === "invalid" && r.errors.map((e) => `${e.field}/${e.rule}`).sort()).toEqual([
      "adaptive.targetHitRate/max",
      "adaptive.windowSeconds/min",
    ]);
    expect(await redis.get(keys.config)).toBe('{"minWarm":5}');
    expect(await historyLen()).toBe(0);
    expect(await configEvents()).toHaveLength(0);
  });

  it("update() refuses to patch an invalid value", async () => {
    await redis.set(keys.config, '{"minwarm":3}');
    const r = await store.update((cur) => ({ ...cur, paused: true }), { who: "ctl", reason: "pause" });
    expect(r).toMatchObject({ ok: false, reason: "invalid" });
    expect(await redis.get(keys.config)).toBe('{"minwarm":3}');
  });
});

describe("ConfigStore history", () => {
  it("records a rejection once per distinct value, with its errors", async () => {
    const errors = [{ field: "minwarm", rule: "unknown-field" as const, message: "minwarm: unknown field" }];
    expect(await store.recordRejection('{"minwarm":3}', errors)).not.toBeNull();
    expect(await store.recordRejection('{"minwarm":3}', errors)).toBeNull();
    expect(await historyLen()).toBe(1);
    const [e] = await store.history(1);
    expect(e).toMatchObject({ result: "rejected", after: '{"minwarm":3}', errors });
    expect(e!.who).toMatch(/unknown/);
  });

  it("does not record twice what a write already recorded", async () => {
    const w = await store.write({ minWarm: 4 }, { expectedRaw: null, who: "alice", reason: "r" });
    expect(await store.recordAccepted(w.ok ? w.raw : "", "unknown", "observed")).toBeNull();
    expect(await historyLen()).toBe(1);
  });

  it("is capped", async () => {
    const small = new ConfigStore(redis, keys, { historyMaxLen: 10 });
    for (let i = 0; i < 300; i++)
      await small.recordAccepted(`{"minWarm":${i % 50},"maxWarm":50}`, "t", `n${i}`);
    const len = await historyLen();
    // MAXLEN ~ trims whole stream nodes (100 entries each by default): bounded, not exact.
    expect(len).toBeGreaterThanOrEqual(10);
    expect(len).toBeLessThanOrEqual(110);
    expect((await small.history(3)).map((e) => e.why)).toEqual(["n299", "n298", "n297"]);
  });

  it("finds the newest accepted value that is still valid", async () => {
    expect(await store.lastAccepted()).toBeUndefined();
    await store.recordAccepted('{"minWarm":7}', "a", "r");
    await store.recordRejection('{"minWarm":-1}', []);
    await store.recordAccepted('{"minWarm":7,"retired":1}', "a", "accepted by an older release");
    expect((await store.lastAccepted())?.value).toEqual({ ...DEFAULT_DESIRED, minWarm: 7 });
  });
});

describe("DesiredStateSource", () => {
  it("keeps the last good in force, records each value once, and says each change once", async () => {
    const source = new DesiredStateSource(store, { observer: "reconciler-1" });
    expect(await source.read()).toMatchObject({
      status: "missing",
      firstMissing: true,
      desired: DEFAULT_DESIRED,
    });

    await redis.set(keys.config, '{"minWarm":8}');
    expect(await source.read()).toMatchObject({ status: "valid", changed: true, desired: { minWarm: 8 } });
    await redis.set(keys.config, '{"minWarm":80}');
    for (let i = 0; i < 3; i++) {
      const u = await source.read();
      expect(u).toMatchObject({
        status: "invalid",
        valid: false,
        source: "last-good",
        desired: { minWarm: 8 },
      });
      expect(u.rawChanged).toBe(i === 0);
      expect(u.rejection).toMatch(/minWarm: must be ≤ maxWarm/);
    }
    await redis.set(keys.config, '{"minWarm":9}');
    expect(await source.read()).toMatchObject({ status: "valid", changed: true, desired: { minWarm: 9 } });

    const h = await store.history(10);
    expect(h.map((e) => `${e.result} ${e.after}`)).toEqual([
      'accepted {"minWarm":9}',
      'rejected {"minWarm":80}',
      'accepted {"minWarm":8}',
    ]);
    expect(h[0]).toMatchObject({ before: '{"minWarm":80}', why: "observed by reconciler-1" });
  });

  it("starts on an invalid key with the newest accepted value from the history", async () => {
    await store.write({ minWarm: 11, maxWarm: 30 }, { expectedRaw: null, who: "alice", reason: "r" });
    await redis.set(keys.config, '{"minWarm":11,"maxWarm":30,"paused":"no"}');
    const u = await new DesiredStateSource(store).read();
    expect(u).toMatchObject({
      status: "invalid",
      source: "last-good",
      desired: { minWarm: 11, maxWarm: 30 },
    });
  });

  it("records nothing when asked not to", async () => {
    await redis.set(keys.config, '{"minwarm":1}');
    await new DesiredStateSource(store, { record: false }).read();
    expect(await historyLen()).toBe(0);
  });
});
