import { afterEach, describe, expect, it } from "vitest";
import { waitFor } from "../harness/index.js";
import { FeedHarness } from "./feed-scenario.js";

/**
 * A leader change mid-stream: the leader stops right after two tasks were stopped behind its back,
 * with their events still in the queue; the standby takes the lease, relists on takeover, reads
 * the queue the old leader left, and the pool ends exact (the scenario's invariants).
 */
describe("leader change mid-stream (real Redis, emulator over HTTP, feed on)", () => {
  const h = new FeedHarness();
  afterEach(() => h.close());

  it("the standby takes over, relists, consumes what was left in the queue; exact counts from the emulator", async () => {
    let takeovers = 0;
    const r = await h.run({
      faults: [],
      relist: "20s", // only the takeover's relist falls inside the test
      afterStops: async (w, leader, start) => {
        const standby = await start();
        await leader.stop(); // releases the lease; its queued messages stay for the next holder
        await waitFor("the standby holds the lease", () => standby.reconciler.lease.held, 10_000);
        takeovers++;
        expect(w.emu.control.queues().find((q) => q.name === "ecs-events")).toBeDefined();
        return standby;
      },
    });
    expect(takeovers).toBe(1);
    const o = r.rec.reconciler.snapshot().observe;
    expect(o && "lastRelist" in o ? o.lastRelist?.result : undefined).toBe("ok");
  });
});
