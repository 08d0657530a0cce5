import { ECSClient, StopTaskCommand } from "@aws-sdk/client-ecs";
import { afterEach, describe, expect, it } from "vitest";
import { waitFor } from "../harness/index.js";
import { setDesired, startWorld, type World } from "./env.js";

/** Lets the loop run several more passes, so an over-creation would show. */
const settle = (ms = 1_500) => new Promise((r) => setTimeout(r, ms));

describe("reconciler converges from ground truth (real Redis, emulator over HTTP)", () => {
  let w: World | undefined;
  afterEach(async () => {
    await w?.close();
    w = undefined;
  });

  it("from empty: exactly minWarm launches reach RUNNING; 2 stopped out of band → exactly 2 replacements", async () => {
    w = await startWorld();
    const world = w;
    await setDesired(world, { minWarm: 5, maxWarm: 20, replenishThreshold: 3 });
    await world.startReconciler();
    await waitFor("5 warm", async () => (await world.states()).warm === 5, 20_000);
    await settle();
    expect(world.launches()).toHaveLength(5);
    expect(world.launches().every((t) => t.history.some((h) => h.status === "RUNNING"))).toBe(true);

    const ecs = new ECSClient({ endpoint: world.emu.endpoint, region: "us-east-1" });
    for (const t of world.live().slice(0, 2)) {
      await ecs.send(new StopTaskCommand({ cluster: "default", task: t.taskArn, reason: "out of band" }));
    }
    ecs.destroy();
    await waitFor("2 replacements", () => world.launches().length === 7, 20_000);
    await waitFor("5 warm again", async () => (await world.states()).warm === 5, 20_000);
    await settle();
    expect(world.launches()).toHaveLength(7);
    expect(world.live()).toHaveLength(5);
  });

  it("with 2 s of ListTasks lag and a 200 ms resync: still exactly 5 launches", async () => {
    w = await startWorld({ emulator: { listVisibilityLagMs: 2_000 } });
    const world = w;
    await setDesired(world, { minWarm: 5, maxWarm: 20, replenishThreshold: 3 });
    await world.startReconciler({ "resync-interval": "200ms" });
    await waitFor("5 warm", async () => (await world.states()).warm === 5, 20_000);
    await settle(3_000); // past the lag: every task listable, many passes later
    expect(world.launches()).toHaveLength(5);
  });
});
