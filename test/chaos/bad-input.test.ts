/**
 * Scenario 5: bad input, with the real reconciler and gateway processes running on a pool at
 * target. 1,000 malformed desired states (fast-check mutations of a good one, plus arbitrary
 * JSON); fuzzed gateway requests (broken JSON, huge bodies, wrong types, hostile ids); malformed
 * entries in the events stream. Every bad input gets a clear error naming what is wrong, and
 * nothing changes: the pool's records in Redis and the emulator's task list stay as they were.
 */
import { ECSClient, StopTaskCommand } from "@aws-sdk/client-ecs";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConfigStore, parseDesiredState } from "../../pkg/config/index.js";
import { waitFor } from "../harness/index.js";
import { GATEWAY_TOKEN, startChaosWorld, type ChaosWorld, type GatewayChild } from "./env.js";
import { figures, pick, sleep } from "./mode.js";
import { poolSnapshot } from "./snapshot.js";

const GOOD = { minWarm: 3, maxWarm: 5, replenishThreshold: 1, maxSurge: 1, maxTasks: 20, leaseSeconds: 60 };
const NUMERIC = ["minWarm", "maxWarm", "replenishThreshold", "maxTasks", "leaseSeconds", "maxSurge"] as const;
const REQUESTS = pick(300, 2_000);
const STREAM_ENTRIES = pick(300, 3_000);

/** A desired state that is wrong by construction, as raw text. */
const badDesired: fc.Arbitrary<{ kind: string; raw: string }> = fc.oneof(
  fc
    .record({
      field: fc.constantFrom(...NUMERIC),
      value: fc.oneof(
        fc.string(),
        fc.constant(null),
        fc.array(fc.integer()),
        fc.boolean(),
        fc.integer({ min: -1_000_000, max: -1 }),
        fc.double({ min: 0.01, max: 0.99, noNaN: true }).map((d) => 2 + d),
        fc.integer({ min: 100_000, max: 2 ** 31 }),
      ),
    })
    .map(({ field, value }) => ({ kind: "wrong-value", raw: JSON.stringify({ ...GOOD, [field]: value }) })),
  fc
    .constantFrom("minwarm", "max_warm", "Paused", "lease", "surge", "__proto__x", "")
    .map((k) => ({ kind: "unknown-field", raw: JSON.stringify({ ...GOOD, [k]: 1 }) })),
  fc.record({ min: fc.integer({ min: 6, max: 100 }) }).map(({ min }) => ({
    kind: "invariant",
    raw: JSON.stringify({ ...GOOD, minWarm: min, maxWarm: min - 1 }),
  })),
  fc
    .constantFrom("yes", 1, "", null)
    .map((v) => ({ kind: "paused", raw: JSON.stringify({ ...GOOD, paused: v }) })),
  fc
    .nat()
    .map((n) => JSON.stringify(GOOD).slice(0, n % JSON.stringify(GOOD).length))
    .map((raw) => ({ kind: "broken-json", raw })),
  fc
    .oneof(fc.array(fc.jsonValue()), fc.integer(), fc.string())
    .map((v) => ({ kind: "not-object", raw: JSON.stringify(v) })),
);

type Req = { method: string; path: string; body?: string; expect: number[] };
const hostileIds = fc.oneof(
  fc.constantFrom(
    "../../etc/passwd",
    ".hidden",
    "a/b",
    "a\\b",
    "\u0000",
    "\u200bzero",
    "ｆｕｌｌ",
    "a".repeat(129),
    " ",
    "-x",
    "",
  ),
  // Anything the default user id pattern refuses.
  fc.string({ minLength: 1, maxLength: 300 }).filter((s) => !/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/.test(s)),
);
/** Claim ids as a path segment: encoded so the URL is well-formed (see the test of raw `%` below). */
const claimIdSegment = fc.oneof(hostileIds, fc.uuid()).map((s) => encodeURIComponent(s));
const fuzzRequest: fc.Arbitrary<Req> = fc.oneof(
  fc.string().map((s) => ({ method: "POST", path: "/v1/claims", body: `{${s}`, expect: [400] })),
  fc.jsonValue().map((v) => ({ method: "POST", path: "/v1/claims", body: JSON.stringify(v), expect: [400] })),
  hostileIds.map((u) => ({
    method: "POST",
    path: "/v1/claims",
    body: JSON.stringify({ userId: u, waitMs: 0 }),
    expect: [400],
  })),
  fc
    .record({
      userId: fc.oneof(fc.integer(), fc.array(fc.string()), fc.constant(null), fc.object()),
    })
    .map((b) => ({ method: "POST", path: "/v1/claims", body: JSON.stringify(b), expect: [400] })),
  fc
    .record({
      leaseSeconds: fc.oneof(
        fc.string(),
        fc.integer({ max: 9 }),
        fc.integer({ min: 86_401 }),
        fc.double({ min: 10.1, max: 11.9, noNaN: true }),
      ),
    })
    .map((b) => ({
      method: "POST",
      path: "/v1/claims",
      body: JSON.stringify({ userId: "ok", waitMs: 0, ...b }),
      expect: [400],
    })),
  fc.oneof(fc.integer({ max: -1 }), fc.integer({ min: 300_001 }), fc.string()).map((w) => ({
    method: "POST",
    path: "/v1/claims",
    body: JSON.stringify({ userId: "ok", waitMs: w }),
    expect: [400],
  })),
  fc.constantFrom("userid", "user_id", "lease", "extra").map((k) => ({
    method: "POST",
    path: "/v1/claims",
    body: JSON.stringify({ userId: "ok", waitMs: 0, [k]: 1 }),
    expect: [400],
  })),
  fc.integer({ min: 16 * 1024 + 1, max: 200_000 }).map((n) => ({
    method: "POST",
    path: "/v1/claims",
    body: JSON.stringify({ userId: "ok", pad: "x".repeat(n) }),
    expect: [413],
  })),
  claimIdSegment.map((id) => ({ method: "DELETE", path: `/v1/claims/${id}`, expect: [400, 404] })),
  claimIdSegment.map((id) => ({
    method: "POST",
    path: `/v1/claims/${id}/heartbeat`,
    body: "{}",
    expect: [400, 404],
  })),
  fc.constantFrom("PUT", "PATCH", "GET").map((m) => ({ method: m, path: "/v1/claims", expect: [405] })),
);

async function send(gw: GatewayChild, r: Req): Promise<{ status: number; body: string }> {
  const res = await fetch(`${gw.url}${r.path}`, {
    method: r.method,
    headers: { authorization: `Bearer ${GATEWAY_TOKEN}`, "content-type": "application/json" },
    ...(r.body !== undefined ? { body: r.body } : {}),
  }).catch((e: unknown) => ({ status: 0, text: async () => String(e) }));
  return { status: res.status, body: await res.text() };
}

const clearMessage = (body: string): boolean => {
  try {
    const e = (JSON.parse(body) as { detail?: unknown }).detail;
    return typeof e === "string" && e.length > 3;
  } catch {
    return false;
  }
};

describe("chaos: bad input", { timeout: 240_000 }, () => {
  let w: ChaosWorld;
  let gw: GatewayChild;
  const ecsCalls = (op: string): number => w.emu.control.calls()[op]?.ok ?? 0;
  beforeAll(async () => {
    w = await startChaosWorld({ bridges: "stand-in" });
    await w.setDesired(GOOD);
    await w.spawnReconciler({ "resync-interval": "300ms" });
    gw = await w.spawnGateway();
    await waitFor("3 warm", async () => (await w.states()).warm === 3 && w.live().length === 3, 30_000, 100);
    await sleep(1_000);
  });
  afterAll(async () => {
    await w?.close();
  });

  it("1,000 malformed desired states: each refused naming field and rule; written raw, the reconciler keeps the last good one", async () => {
    const samples = fc.sample(badDesired, { numRuns: 1_000, seed: 10 });
    const store = new ConfigStore(w.redis, w.keys);
    const before = await w.redis.get(w.keys.config);
    const historyBefore = await w.redis.xlen(w.keys.configHistory);
    const rawWritten = new Set<string>();
    let recorded = 0;
    let lastRaw = before;
    const kinds: Record<string, number> = {};
    const runsBefore = ecsCalls("RunTask");
    const stopsBefore = ecsCalls("StopTask");
    let i = 0;
    for (const s of samples) {
      kinds[s.kind] = (kinds[s.kind] ?? 0) + 1;
      const parsed = parseDesiredState(s.raw);
      expect(parsed.ok, s.raw).toBe(false);
      if (parsed.ok) continue;
      for (const e of parsed.errors) {
        // (An unknown field named "" is reported with field "" — the one case with no name to give.)
        expect(e.field || s.raw.includes('"":')).toBeTruthy();
        expect(e.rule).toBeTruthy();
        expect(e.message.startsWith(`${e.field}: `), e.message).toBe(true);
      }
      // Through the store: refused, nothing written.
      const r = await store.write(s.raw, { expectedRaw: before, who: "chaos", reason: "bad input" });
      expect(r.ok).toBe(false);
      // Through the store, a refused write leaves no trace: not the key, not the history.
      expect(await w.redis.xlen(w.keys.configHistory)).toBe(historyBefore + recorded);
      // Raw into the key, as a plain SET by hand would (every tenth, with the reconciler reading).
      if (i++ % 10 === 0) {
        await w.redis.set(w.keys.config, s.raw);
        rawWritten.add(s.raw);
        // The reconciler records each value it finds in the key once (a repeat of the last is not new).
        if (s.raw !== lastRaw) recorded++;
        lastRaw = s.raw;
        await waitFor(
          "the reconciler records the raw value",
          async () => (await w.redis.xlen(w.keys.configHistory)) === historyBefore + recorded,
          10_000,
          10,
        );
      }
    }
    // What the reconciler recorded: one rejection per raw value it found, each naming the errors
    // (field and rule), and nothing accepted.
    expect(recorded).toBeGreaterThan(50);
    const added = await store.history(recorded);
    expect(added).toHaveLength(recorded);
    for (const e of added) {
      expect(e.result, e.after).toBe("rejected");
      expect(rawWritten.has(e.after), e.after).toBe(true);
      expect(e.errors?.length, e.after).toBeGreaterThan(0);
      for (const err of e.errors ?? []) expect(err.rule, e.after).toBeTruthy();
    }
    await sleep(1_500);
    const acted = { runs: ecsCalls("RunTask") - runsBefore, stops: ecsCalls("StopTask") - stopsBefore };
    await w.redis.set(w.keys.config, before!);
    const rejections = await w.redis.xlen(w.keys.configHistory);
    // Arbitrary JSON: never a throw, and an error list that names field, rule and message.
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        const r = parseDesiredState(JSON.stringify(v));
        return r.ok || r.errors.every((e) => typeof e.field === "string" && e.rule && e.message.length > 0);
      }),
      { numRuns: 1_000, seed: 11 },
    );
    figures("bad-desired-state", {
      inputs: samples.length,
      kinds,
      rawWrites: Math.ceil(samples.length / 10),
      historyEntries: rejections,
      rejectionsRecorded: recorded,
      reconcilerRuns: acted.runs,
      reconcilerStops: acted.stops,
      violations: acted.runs + acted.stops,
    });
    expect(acted).toEqual({ runs: 0, stops: 0 });
    expect(w.live()).toHaveLength(3);
  });

  it(`${REQUESTS} fuzzed gateway requests: each a clear 4xx, no Redis record changed, no ECS call`, async () => {
    const reqs = fc.sample(fuzzRequest, { numRuns: REQUESTS, seed: 12 });
    await sleep(500);
    const snap = await poolSnapshot(w.redis, w.keys);
    const runsBefore = ecsCalls("RunTask");
    const bad: string[] = [];
    const statuses: Record<number, number> = {};
    for (const r of reqs) {
      const a = await send(gw, r);
      statuses[a.status] = (statuses[a.status] ?? 0) + 1;
      if (!r.expect.includes(a.status) || !clearMessage(a.body))
        bad.push(
          `${r.method} ${r.path.slice(0, 80)} ${(r.body ?? "").slice(0, 80)} → ${a.status} ${a.body.slice(0, 120)}`,
        );
    }
    const after = await poolSnapshot(w.redis, w.keys);
    figures("gateway-fuzz", { requests: reqs.length, statuses, violations: bad.length });
    expect(bad).toEqual([]);
    expect(after).toEqual(snap);
    expect(ecsCalls("RunTask") - runsBefore).toBe(0);
    expect((await fetch(`${gw.url}/readyz`)).status).toBe(200);
  });

  // A claim id whose percent-encoding is malformed is a client error naming claimId, never a 500.
  it("a claim id with malformed percent-encoding is a 400 naming claimId, not a 500", async () => {
    for (const path of ["/v1/claims/%E0%A4%A", "/v1/claims/%zz/heartbeat"]) {
      const a = await send(gw, {
        method: path.endsWith("heartbeat") ? "POST" : "DELETE",
        path,
        body: "{}",
        expect: [400],
      });
      expect(a.status).toBe(400);
      expect(a.body).toMatch(/claimId/);
    }
  });

  it(`${STREAM_ENTRIES} malformed events stream entries: the reconciler neither acts nor dies, and still answers a real change`, async () => {
    const runsBefore = ecsCalls("RunTask");
    const stopsBefore = ecsCalls("StopTask");
    const snap = await poolSnapshot(w.redis, w.keys);
    const entries = fc.sample(
      fc.oneof(
        fc.constant(["junk", "1"]),
        fc.string({ maxLength: 50 }).map((t) => ["type", t]),
        fc
          .constantFrom("claim", "register", "release", "expire", "cordon")
          .map((t) => ["type", t, "taskId", "nope", "claimId", "x"]),
        fc.constant(["type", "config", "blob", "z".repeat(100_000)]),
        fc.uint8Array({ maxLength: 64 }).map((b) => ["type", Buffer.from(b).toString("latin1")]),
      ),
      { numRuns: STREAM_ENTRIES, seed: 13 },
    );
    for (const e of entries) await w.redis.xadd(w.keys.events, "*", ...e);
    await sleep(2_000);
    const acted = { runs: ecsCalls("RunTask") - runsBefore, stops: ecsCalls("StopTask") - stopsBefore };
    const after = await poolSnapshot(w.redis, w.keys);
    expect(acted).toEqual({ runs: 0, stops: 0 });
    expect(after).toEqual(snap);
    // Still alive and acting: a task vanishing out of band is replaced.
    const victim = w.live()[0]!;
    const launched = w.launches().length;
    const liveBefore = w.live().length;
    const ecs = new ECSClient({ endpoint: w.emu.endpoint, region: "us-east-1", maxAttempts: 1 });
    await ecs.send(new StopTaskCommand({ cluster: "default", task: victim.taskArn, reason: "chaos" }));
    ecs.destroy();
    const t0 = Date.now();
    await waitFor(
      "replacement",
      () => w.launches().length === launched + 1 && w.live().length === liveBefore,
      20_000,
      100,
    );
    figures("events-fuzz", {
      entries: entries.length,
      reconcilerRuns: acted.runs,
      reconcilerStops: acted.stops,
      replacedInMs: Date.now() - t0,
      violations: acted.runs + acted.stops,
    });
  });
});
