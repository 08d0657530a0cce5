/**
 * The factory's Auto Scaling capacity gauges, written by the real capacity pass (pkg/asg) over
 * the emulator: `warmpool_asg_desired_capacity` and `warmpool_asg_desired_prepared_capacity`
 * must equal what the emulator's group ends up with (its DesiredCapacity, and that plus the warm
 * pool's size), read back from the exposition a scrape sees.
 */
import { Registry } from "prom-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Emulator } from "../../hack/emulator/index.js";
import { CapacityReconciler, type AsgDriver, type CapacityPassInput } from "../../pkg/asg/index.js";
import { DEFAULT_DESIRED } from "../../pkg/config/index.js";
import { createMetrics, M, type Metrics } from "../../pkg/metrics/index.js";
import { waitFor } from "../harness/index.js";
import { driverFor, groupTruth, registerTask, startAsgEmulator } from "../asg/env.js";

describe("Auto Scaling capacity gauges from the capacity pass", () => {
  let emu: Emulator;
  let driver: AsgDriver;
  let metrics: Metrics;
  let capacity: CapacityReconciler;
  let td: string;

  beforeAll(async () => {
    emu = await startAsgEmulator({
      autoScaling: {
        timings: { coldLaunch: 50, warmUp: 50, resume: { Hibernated: 20 } },
        groups: [
          {
            name: "g",
            minSize: 0,
            maxSize: 10,
            desiredCapacity: 0,
            cluster: "c",
            capacity: { cpu: 2048, memory: 4096 },
          },
        ],
      },
    });
    driver = driverFor(emu, "c");
    metrics = createMetrics(new Registry(), { defaults: false });
    capacity = new CapacityReconciler({ pool: "p", driver, metrics, minIntervalMs: 0 });
    td = await registerTask(emu, "agent", 512, 1024); // 4 tasks per instance
  });
  afterAll(async () => {
    driver?.destroy();
    await emu?.stop();
  });

  /** A sample's value as Prometheus would scrape it. */
  const scraped = async (name: string): Promise<number | undefined> => {
    const text = await metrics.registry.metrics();
    const m = new RegExp(`^${name}\\{pool="p"\\} (\\S+)$`, "m").exec(text);
    return m ? Number(m[1]) : undefined;
  };

  it("desired and prepared capacity follow the group the pass sized (warm target 8 → 2 + 2)", async () => {
    expect(await scraped(M.asgDesiredCapacity)).toBeUndefined(); // nothing planned yet
    const input: CapacityPassInput = {
      desired: {
        ...DEFAULT_DESIRED,
        minWarm: 8,
        maxWarm: 20,
        asg: { groupName: "g", poolState: "Hibernated", minWarmInstances: 0, headroomInstances: 0 },
      },
      plan: {
        target: 8,
        counts: { starting: 0, expected: 0, warm: 0, claimed: 0, draining: 0, waiting: 0, total: 0 },
        actions: [{ kind: "run" }],
      },
      taskDefinition: td,
      failures: [],
    };
    // Until an instance registers, tasks per instance is unknown and the pass asks for one.
    await waitFor(
      "group sized for 8 tasks with its warm pool",
      async () => {
        await capacity.reconcile(input);
        const g = groupTruth(emu, "g");
        return g.desiredCapacity === 2 && g.warmPool?.minSize === 2;
      },
      20_000,
    );
    const g = groupTruth(emu, "g");
    expect(await scraped(M.asgDesiredCapacity)).toBe(g.desiredCapacity);
    expect(await scraped(M.asgPreparedCapacity)).toBe(g.desiredCapacity + (g.warmPool?.minSize ?? 0));
    expect(await scraped(M.asgPreparedCapacity)).toBe(4);
  });
});
