import { ECSClient, StopTaskCommand } from "@aws-sdk/client-ecs";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startPrivateCluster, type PrivateCluster } from "../../hack/redis/private-cluster.js";
import { waitFor } from "../harness/index.js";
import { setDesired, startWorld, type World } from "../reconciler/env.js";

/** Lets the loop run several more passes, so an over-creation would show. */
const settle = (ms = 1_500) => new Promise((r) => setTimeout(r, ms));

/**
 * `warmpool reconciler --redis-url redis+cluster://…` against the ECS emulator over HTTP: the whole
 * process (lease, fenced scripts, snapshot, desired state, events) on a 3-master Redis Cluster.
 */
describe("reconciler converges on a Redis Cluster (emulator over HTTP)", () => {
  let cluster: PrivateCluster;
  let w: World | undefined;
  beforeAll(async () => {
    cluster = await startPrivateCluster(3);
  }, 60_000);
  afterEach(async () => {
    await w?.close();
    w = undefined;
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it("from empty: exactly minWarm launches reach warm; 2 stopped out of band → exactly 2 replacements", async () => {
    w = await startWorld({ redisUrl: cluster.url });
    const world = w;
    await setDesired(world, { minWarm: 5, maxWarm: 20, replenishThreshold: 3 });
    await world.startReconciler();
    await waitFor("5 warm", async () => (await world.states()).warm === 5, 20_000);
    await settle();
    expect(world.launches()).toHaveLength(5);

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
    // The stopped tasks' records are forgotten (forget-6+ on the cluster): only the live five remain.
    await waitFor(
      "records of the stopped tasks forgotten",
      async () => {
        const s = await world.states();
        return Object.values(s).reduce((a, b) => a + b, 0) === 5;
      },
      20_000,
    );
  });
});
