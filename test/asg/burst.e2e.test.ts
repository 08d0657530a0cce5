/**
 * End to end over the emulator: two identical groups, one whose warm pool the capacity
 * reconciler sizes for the next refill, one held to no warm pool (maxPreparedCapacity 0). A
 * stand-in task side runs EC2 tasks up to claimed + target each pass (RunTask through the SDK;
 * RESOURCE:* failures feed the capacity pass) — the pool's Redis side is not under test here.
 * A burst of claims that needs two more instances must resume hibernated ones in the first
 * group and cold-launch in the second; the time to target of both is reported.
 */
import { ECSClient, RunTaskCommand, StopTaskCommand } from "@aws-sdk/client-ecs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Emulator } from "../../hack/emulator/index.js";
import { CapacityReconciler, type AsgDriver, type CapacityPassResult } from "../../pkg/asg/index.js";
import { capacityReasonOfError, type CapacityFailure } from "../../pkg/capacity/index.js";
import { DEFAULT_DESIRED, type AsgDesired, type DesiredState } from "../../pkg/config/index.js";
import { waitFor } from "../harness/index.js";
import { callsOf, driverFor, groupTruth, launchKinds, registerTask, startAsgEmulator } from "./env.js";

const TARGET = 8; // warm target; 4 tasks per instance → 2 instances, and 2 more for the next refill

interface Side {
  name: string;
  cluster: string;
  asg: AsgDesired;
  driver: AsgDriver;
  capacity: CapacityReconciler;
  claimed: number;
  target: number;
  failures: Map<string, CapacityFailure>;
  last?: CapacityPassResult;
}

describe("burst: hibernated instances resume instead of cold launches", () => {
  let emu: Emulator;
  let ecs: ECSClient;
  let td: string;
  const sides: Side[] = [];

  const live = (s: Side): string[] =>
    emu.control
      .tasks()
      .filter((t) => t.clusterName === s.cluster && t.desiredStatus === "RUNNING")
      .map((t) => t.taskArn);

  /** One pass of the stand-in task side, then the capacity pass under test. */
  async function pass(s: Side): Promise<CapacityPassResult> {
    const want = s.claimed + s.target;
    let deficit = want - live(s).length;
    const launching = deficit > 0;
    while (deficit > 0) {
      const count = Math.min(10, deficit);
      deficit -= count;
      try {
        const out = await ecs.send(
          new RunTaskCommand({ cluster: s.cluster, taskDefinition: td, launchType: "EC2", count }),
        );
        for (const f of out.failures ?? []) note(s, f.reason ?? "UNKNOWN");
        if ((out.failures ?? []).length > 0) break;
      } catch (err) {
        const reason = capacityReasonOfError(err);
        if (!reason) throw err;
        note(s, reason);
        break;
      }
    }
    const n = live(s).length;
    const desired: DesiredState = { ...DEFAULT_DESIRED, minWarm: s.target, maxWarm: 20, asg: s.asg };
    s.last = (await s.capacity.reconcile({
      desired,
      plan: {
        target: s.target,
        counts: {
          starting: 0,
          expected: 0,
          warm: Math.max(0, n - s.claimed),
          claimed: Math.min(s.claimed, n),
          draining: 0,
          waiting: 0,
          total: n,
        },
        actions: launching ? [{ kind: "run" }] : [],
      },
      taskDefinition: td,
      failures: [...s.failures.values()],
    })) as CapacityPassResult;
    return s.last;
  }

  function note(s: Side, reason: string): void {
    const prev = s.failures.get(reason);
    s.failures.set(reason, { reason, count: (prev?.count ?? 0) + 1, lastAtMs: Date.now() });
  }

  /** Passes every 50 ms on both sides until `done` holds for each; returns ms each took. */
  async function runUntil(done: (s: Side) => boolean, timeoutMs: number): Promise<number[]> {
    const start = performance.now();
    const took: (number | undefined)[] = sides.map(() => undefined);
    while (took.some((t) => t === undefined)) {
      if (performance.now() - start > timeoutMs) {
        throw new Error(`timed out: ${sides.map((s) => `${s.name}: ${s.last?.plan.reason}`).join(" | ")}`);
      }
      for (const [k, s] of sides.entries()) {
        if (took[k] !== undefined) continue;
        await pass(s);
        if (done(s)) took[k] = performance.now() - start;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    return took as number[];
  }

  const running = (s: Side): number =>
    emu.control.tasks().filter((t) => t.clusterName === s.cluster && t.lastStatus === "RUNNING").length;

  beforeAll(async () => {
    emu = await startAsgEmulator({
      autoScaling: {
        // Real figures ×0.01: cold 1.8 s, warm-up 1.8 s, resume from hibernation 0.15 s.
        timings: { terminate: 1_000 },
        groups: ["warm", "cold"].map((name) => ({
          name,
          minSize: 0,
          maxSize: 20,
          desiredCapacity: 0,
          cluster: `c-${name}`,
          capacity: { cpu: 2048, memory: 4096 },
        })),
      },
    });
    ecs = new ECSClient({ endpoint: emu.endpoint, region: emu.region, maxAttempts: 1 });
    td = await registerTask(emu, "agent", 512, 1024);
    for (const name of ["warm", "cold"]) {
      const driver = driverFor(emu, `c-${name}`);
      const asg: AsgDesired = {
        groupName: name,
        poolState: "Hibernated",
        minWarmInstances: 0,
        headroomInstances: 0,
        ...(name === "cold" ? { maxPreparedCapacity: 0 } : {}),
      };
      sides.push({
        name,
        cluster: `c-${name}`,
        asg,
        driver,
        capacity: new CapacityReconciler({ pool: name, driver, minIntervalMs: 0 }),
        claimed: 0,
        target: TARGET,
        failures: new Map(),
      });
    }
  });
  afterAll(async () => {
    for (const s of sides) s.driver.destroy();
    ecs?.destroy();
    await emu?.stop();
  });

  it("reaches the warm target from nothing; the warm pool fills; further passes write nothing", async () => {
    await runUntil((s) => running(s) === TARGET, 30_000);
    const [warm, cold] = sides as [Side, Side];
    await waitFor(
      "2 hibernated",
      () =>
        groupTruth(emu, "warm").instances.filter((i) => i.lifecycleState === "Warmed:Hibernated").length ===
        2,
      20_000,
    );
    expect(groupTruth(emu, "warm").warmPool).toMatchObject({
      minSize: 2,
      maxGroupPreparedCapacity: 2,
      reuseOnScaleIn: false,
    });
    expect(groupTruth(emu, "cold").warmPool).toMatchObject({ minSize: 0, maxGroupPreparedCapacity: 0 });
    expect(callsOf(emu, "PutWarmPool").ok).toBe(2); // one per group
    // Before the first instance registered, RunTask found none: that fed the capacity pass.
    expect(warm.failures.has("NO_CONTAINER_INSTANCE") || cold.failures.has("NO_CONTAINER_INSTANCE")).toBe(
      true,
    );

    emu.control.resetCalls();
    for (let k = 0; k < 5; k++) for (const s of sides) expect((await pass(s)).done).toEqual([]);
    expect(callsOf(emu, "PutWarmPool")).toEqual({ ok: 0, throttled: 0, error: 0 });
    expect(callsOf(emu, "SetDesiredCapacity")).toEqual({ ok: 0, throttled: 0, error: 0 });
    expect(warm.last?.plan.reason).toMatch(/^steady/);
  });

  it("a burst of claims needing two more instances: resumed from the warm pool vs cold launches", async () => {
    const before = sides.map((s) => launchKinds(emu, s.name));
    for (const s of sides) s.claimed = TARGET; // every warm task claimed at once: 16 tasks needed
    const [warmMs, coldMs] = await runUntil((s) => running(s) === 2 * TARGET, 60_000);
    const [warmAfter, coldAfter] = sides.map((s) => launchKinds(emu, s.name)) as [
      { resumed: number; cold: number },
      { resumed: number; cold: number },
    ];
    expect(warmAfter.resumed - before[0]!.resumed).toBe(2);
    expect(warmAfter.cold - before[0]!.cold).toBe(0);
    expect(coldAfter.resumed - before[1]!.resumed).toBe(0);
    expect(coldAfter.cold - before[1]!.cold).toBe(2);
    // Both ran into RESOURCE:* while capacity came (the burst is larger than what was running).
    for (const s of sides) expect([...s.failures.keys()].some((r) => r.startsWith("RESOURCE:"))).toBe(true);
    // The point of the warm pool: resuming (0.15 s here) beats booting and warming up (3.6 s).
    expect(warmMs as number).toBeLessThan(coldMs as number);
    console.log(
      `burst of ${TARGET} claims (2 instances more): time to target with warm pool ${Math.round(warmMs as number)} ms, ` +
        `cold ${Math.round(coldMs as number)} ms (timeScale 0.01)`,
    );
    // The warm pool refills behind the burst, so the next one resumes too.
    await waitFor(
      "warm pool refilled",
      () =>
        groupTruth(emu, "warm").instances.filter((i) => i.lifecycleState === "Warmed:Hibernated").length ===
        2,
      20_000,
    );
  });

  it("after the burst, hosting instances are protected and the scale-in takes only empty ones; then all go once empty", async () => {
    const s = sides[0] as Side;
    // Release the claimed tasks: the 8 on two instances (what claims took), the warm 8 stay.
    const cis = emu.control
      .containerInstances()
      .filter((c) => c.clusterName === s.cluster && c.status === "ACTIVE");
    const released = cis.slice(0, 2).flatMap((c) => c.taskIds);
    for (const id of released) await ecs.send(new StopTaskCommand({ cluster: s.cluster, task: id }));
    s.claimed = 0;
    await waitFor("released tasks stopped", () =>
      released.every((id) => emu.control.task(id)?.lastStatus === "STOPPED"),
    );
    const hosting = (): string[] =>
      emu.control
        .containerInstances()
        .filter((c) => c.clusterName === s.cluster && c.status === "ACTIVE" && c.taskIds.length > 0)
        .map((c) => c.ec2InstanceId as string)
        .sort();
    const hosts = hosting();
    expect(hosts.length).toBe(2); // the warm 8, 4 per instance
    emu.control.resetCalls();
    for (let k = 0; k < 5; k++) await pass(s);
    // Protect-then-scale-in: the two hosting instances are protected first, then 4 → 2.
    expect(s.driver.protectionSupported).toBe(true);
    expect(callsOf(emu, "SetInstanceProtection")).toEqual({ ok: 1, throttled: 0, error: 0 });
    expect(groupTruth(emu, s.name).desiredCapacity).toBe(2);
    await waitFor(
      "empty instances terminated",
      () => groupTruth(emu, s.name).instances.filter((i) => !i.warm).length === 2,
      10_000,
    );
    const kept = groupTruth(emu, s.name).instances.filter((i) => !i.warm);
    expect(kept.map((i) => i.instanceId).sort()).toEqual(hosts);
    expect(kept.every((i) => i.protectedFromScaleIn && i.lifecycleState === "InService")).toBe(true);
    expect(hosting()).toEqual(hosts);
    const killed = emu.control
      .tasks()
      .filter((t) => t.clusterName === s.cluster && t.stopCode === "TerminationNotice");
    expect(killed).toEqual([]);
    expect(live(s).length).toBe(TARGET);
    emu.control.resetCalls();
    for (let k = 0; k < 3; k++) expect((await pass(s)).done).toEqual([]); // settled: nothing more to write
    expect(callsOf(emu, "SetDesiredCapacity").ok).toBe(0);

    // Nothing hosted any more (target 0, all stopped): now the group scales in.
    s.target = 0;
    for (const id of live(s)) await ecs.send(new StopTaskCommand({ cluster: s.cluster, task: id }));
    await waitFor("all stopped", () =>
      emu.control.tasks().every((t) => t.clusterName !== s.cluster || t.lastStatus === "STOPPED"),
    );
    await waitFor(
      "scaled in",
      async () => (await pass(s), groupTruth(emu, s.name).desiredCapacity === 0),
      10_000,
    );
    // The protected, now empty instances were unprotected so the scale-in could pick them.
    await waitFor("group empty", () => groupTruth(emu, s.name).instances.every((i) => i.warm), 10_000);
    expect(
      emu.control.tasks().filter((t) => t.clusterName === s.cluster && t.stopCode === "TerminationNotice"),
    ).toEqual([]);
  });
});
