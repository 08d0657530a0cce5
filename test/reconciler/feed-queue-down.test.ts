import { afterEach, describe, expect, it } from "vitest";
import { FULL, pick } from "../chaos/mode.js";
import { waitFor } from "../harness/index.js";
import type { ReconcilerProcess } from "../../pkg/reconciler/index.js";
import { ctl } from "../ctl/env.js";
import { metricValue } from "./env.js";
import { FeedHarness } from "./feed-scenario.js";

/** How long the queue is down: a few seconds in the default suite, a full minute under test:chaos. */
const DOWN_MS = pick(10_000, 60_000);

const feedState = (rec: ReconcilerProcess): string | undefined => {
  const o = rec.reconciler.snapshot().observe;
  return o && "feed" in o ? o.feed?.state : undefined;
};

describe("event queue down (real Redis, emulator over HTTP, feed on)", () => {
  const h = new FeedHarness();
  afterEach(() => h.close());

  it(
    `queue unavailable for ${DOWN_MS / 1000} s: said in status and metric; the pool still refills from its own writes and relists, exact after the relist`,
    async () => {
      const r = await h.run({
        faults: [{ kind: "queueUnavailable", durationMs: DOWN_MS }],
        during: async (w, rec) => {
          await waitFor("the feed reported down", () => feedState(rec) === "down", 10_000);
          expect(await metricValue(rec.metrics, "feedUp", { pool: w.pool })).toBe(0);
          // On-call sees it in `ctl status` (the status key the leader publishes each pass).
          const out = await waitFor(
            "ctl status saying the feed is down",
            async () => {
              const r = await ctl(["ctl", "status", "--redis-url", w.redisServer.url, "--pool", w.pool]);
              return /cache \+ event feed down/.test(r.out) ? r.out : undefined;
            },
            10_000,
          );
          expect(out).toMatch(/! event feed down for \d+s: working from Redis, own writes and relists/);
        },
      });
      // A minute down: the pool settled while the queue was still down, so the relists found
      // both out-of-band stops (drift 2). In the short run the queue may come back first.
      if (FULL) expect(r.drift).toBe(2);
      await waitFor("the feed back up", () => feedState(r.rec) === "up", DOWN_MS + 45_000);
      expect(await metricValue(r.metrics, "feedUp", { pool: r.world.pool })).toBe(1);
    },
    DOWN_MS + 150_000,
  );
});
