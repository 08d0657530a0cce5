import { afterEach, describe, expect, it } from "vitest";
import { FeedHarness } from "./feed-scenario.js";

/**
 * The event feed under each of its faults (EventBridge is at-least-once and unordered; events can
 * be lost or late): the scenario's invariants hold in every case (feed-scenario.ts), and what the
 * reconciler reports matches the fault.
 */
describe("event feed faults (real Redis, emulator over HTTP, feed on)", () => {
  const h = new FeedHarness();
  afterEach(() => h.close());

  it("dropped events: the relist finds both tasks stopped behind its back (drift 2) and refills", async () => {
    const r = await h.run({ faults: [{ kind: "eventDrop" }] });
    expect(r.drift).toBe(2);
    expect(r.world.emu.control.feed().totals.dropped).toBeGreaterThan(0); // the fault did fire
  });

  it("duplicated events: dropped as duplicates, no drift, the feed alone sees the stops", async () => {
    // Relists far apart: the out-of-band stops are seen through the events, duplicated as they are.
    const r = await h.run({ faults: [{ kind: "eventDuplicate" }], relist: "8s" });
    expect(r.feed.duplicate).toBeGreaterThan(0);
    expect(r.drift).toBe(0);
  });

  it("reordered events: the older change, arriving after a newer one, is dropped as stale", async () => {
    // A task's PENDING change is held back until its next change (RUNNING) has been delivered.
    const r = await h.run({ faults: [{ kind: "eventReorder", lastStatus: "PENDING", holdMs: 5_000 }] });
    expect(r.world.emu.control.feed().totals.reordered).toBeGreaterThan(0);
    expect(r.feed.stale).toBeGreaterThan(0);
    expect(r.drift).toBe(0);
  });

  it("late events: applied late (lag measured), the pool still exact", async () => {
    const r = await h.run({ faults: [{ kind: "eventDelay", delayMs: 1_500 }] });
    const values = (await r.metrics.feedEventLag.get()).values.filter((v) => v.labels.pool === r.world.pool);
    const count = values.find((v) => v.metricName?.endsWith("_count"))?.value ?? 0;
    const withinOne =
      values.find((v) => v.metricName?.endsWith("_bucket") && (v.labels as Record<string, unknown>).le === 1)
        ?.value ?? 0;
    // Events after the fault took over 1 s from the change to being applied; earlier ones did not.
    expect(count - withinOne).toBeGreaterThan(0);
    expect(withinOne).toBeGreaterThan(0);
  });
});
