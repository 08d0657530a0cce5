/**
 * Keeps each Auto Scaling group at its desired capacity and its warm pool at its size, the way
 * EC2 Auto Scaling does, level-triggered: after every change it recounts and acts.
 *
 * Group: Pending → InService (cold launch), or Warmed:<state> → Pending → InService (resume,
 * faster). Scale in: Terminating → Terminated, or back to the warm pool with ReuseOnScaleIn;
 * it never picks an instance protected from scale in (see `scaleInVictims`), so while every
 * surplus instance is protected the group stays above its desired capacity, as AWS does.
 * Warm pool: Warmed:Pending → Warmed:<PoolState>; its size is
 * max(MinSize, (MaxGroupPreparedCapacity ?? MaxSize) − DesiredCapacity).
 * Each InService instance is an ECS container instance of the group's cluster; leaving service
 * deregisters it and stops the tasks on it.
 */
import { randomBytes } from "node:crypto";
import type { ContainerInstances } from "../container-instances.js";
import type { Lifecycle } from "../lifecycle.js";
import { sampleLatency, type Latency } from "../options.js";
import type { Store } from "../store.js";
import type { AutoScalingTimings, GroupRecord, InstanceRecord, LifecycleState } from "./types.js";

const WARM_READY: LifecycleState[] = ["Warmed:Stopped", "Warmed:Running", "Warmed:Hibernated"];

export class AutoScalingEngine {
  readonly groups = new Map<string, GroupRecord>();
  private closed = false;

  constructor(
    private readonly timings: AutoScalingTimings,
    private readonly timeScale: number,
    private readonly random: () => number,
    private readonly instances: ContainerInstances,
    private readonly store: Store,
    private readonly lifecycle: Lifecycle,
  ) {}

  add(g: GroupRecord): void {
    this.groups.set(g.name, g);
    this.instances.manage(g.cluster);
    this.store.createCluster(g.cluster);
    this.reconcile(g);
  }

  warmPoolTarget(g: GroupRecord): number {
    const wp = g.warmPool;
    if (!wp || wp.status === "PendingDelete") return 0;
    const ceiling =
      wp.maxGroupPreparedCapacity !== undefined && wp.maxGroupPreparedCapacity >= 0
        ? wp.maxGroupPreparedCapacity
        : g.maxSize;
    return Math.max(wp.minSize, ceiling - g.desiredCapacity);
  }

  private after(i: InstanceRecord, l: Latency, fn: () => void): void {
    if (i.timer) clearTimeout(i.timer);
    if (this.closed) return;
    const ms = Math.max(0, sampleLatency(l, this.random) * this.timeScale);
    i.timer = setTimeout(() => {
      i.timer = undefined;
      if (!this.closed) fn();
    }, ms);
    i.timer.unref();
  }

  private set(g: GroupRecord, i: InstanceRecord, state: LifecycleState): void {
    const wasInService = i.lifecycleState === "InService";
    i.lifecycleState = state;
    i.history.push({ state, at: Date.now() });
    if (state === "InService" && !wasInService) {
      const ci = this.instances.register(
        g.cluster,
        i.instanceId,
        i.instanceType,
        i.availabilityZone,
        g.capacity,
      );
      i.containerInstanceArn = ci.containerInstanceArn;
    } else if (wasInService && state !== "InService") {
      this.leaveService(i);
    }
  }

  private leaveService(i: InstanceRecord): void {
    const ci = this.instances.find(i.containerInstanceArn);
    i.containerInstanceArn = undefined;
    if (!ci) return;
    for (const id of this.instances.deregister(ci)) {
      const t = this.store.byId.get(id);
      if (t)
        this.lifecycle.stopWith(t, "TerminationNotice", `Host EC2 (instance ${i.instanceId}) terminated.`);
    }
  }

  private newInstance(g: GroupRecord, warm: boolean): InstanceRecord {
    const azCount = new Map<string, number>(g.availabilityZones.map((z) => [z, 0]));
    for (const x of g.instances) azCount.set(x.availabilityZone, (azCount.get(x.availabilityZone) ?? 0) + 1);
    const az = [...azCount.entries()].sort((a, b) => a[1] - b[1])[0]?.[0] ?? "us-east-1a";
    const i: InstanceRecord = {
      instanceId: `i-${randomBytes(9).toString("hex").slice(0, 17)}`,
      instanceType: g.instanceType,
      availabilityZone: az,
      lifecycleState: warm ? "Warmed:Pending" : "Pending",
      launchedAt: Date.now(),
      warm,
      protectedFromScaleIn: !warm && g.newInstancesProtectedFromScaleIn,
      history: [],
    };
    i.history.push({ state: i.lifecycleState, at: i.launchedAt });
    g.instances.push(i);
    return i;
  }

  private remove(g: GroupRecord, i: InstanceRecord): void {
    if (i.timer) clearTimeout(i.timer);
    g.instances = g.instances.filter((x) => x !== i);
  }

  private terminate(g: GroupRecord, i: InstanceRecord): void {
    const warm = i.warm;
    this.set(g, i, warm ? "Warmed:Terminating" : "Terminating");
    this.after(i, this.timings.terminate, () => {
      this.set(g, i, warm ? "Warmed:Terminated" : "Terminated");
      this.remove(g, i);
      this.reconcile(g);
    });
  }

  /** Counts and acts; called after every change to the group or one of its instances. */
  reconcile(g: GroupRecord): void {
    if (this.closed || !this.groups.has(g.name)) return;
    const serving = g.instances.filter(
      (i) => !i.warm && (i.lifecycleState === "Pending" || i.lifecycleState === "InService"),
    );
    let need = g.desiredCapacity - serving.length;
    while (need > 0) {
      need--;
      const warmed = g.instances.find((i) => i.warm && WARM_READY.includes(i.lifecycleState));
      if (warmed) {
        const from = warmed.lifecycleState.slice("Warmed:".length) as keyof AutoScalingTimings["resume"];
        warmed.warm = false;
        warmed.protectedFromScaleIn = g.newInstancesProtectedFromScaleIn;
        this.set(g, warmed, "Pending");
        this.after(warmed, this.timings.resume[from], () => {
          this.set(g, warmed, "InService");
          this.reconcile(g);
        });
      } else {
        const fresh = this.newInstance(g, false);
        this.after(fresh, this.timings.coldLaunch, () => {
          this.set(g, fresh, "InService");
          this.reconcile(g);
        });
      }
    }
    if (need < 0) {
      for (const v of scaleInVictims(serving, -need)) {
        if (g.warmPool?.reuseOnScaleIn && g.warmPool.status !== "PendingDelete") {
          v.warm = true;
          v.protectedFromScaleIn = false;
          this.set(g, v, "Warmed:Pending");
          const pool = g.warmPool;
          this.after(v, this.timings.returnToWarmPool, () => {
            this.set(g, v, `Warmed:${pool.poolState}`);
            this.reconcile(g);
          });
        } else this.terminate(g, v);
      }
    }
    this.reconcileWarmPool(g);
  }

  private reconcileWarmPool(g: GroupRecord): void {
    const live = g.instances.filter(
      (i) => i.warm && i.lifecycleState !== "Warmed:Terminating" && i.lifecycleState !== "Warmed:Terminated",
    );
    const target = this.warmPoolTarget(g);
    const wp = g.warmPool;
    if (wp && live.length < target) {
      for (let n = live.length; n < target; n++) {
        const i = this.newInstance(g, true);
        this.after(i, this.timings.warmUp, () => {
          this.set(g, i, `Warmed:${wp.poolState}`);
          this.reconcile(g);
        });
      }
    } else if (live.length > target) {
      const extra = [...live]
        .sort(
          (a, b) =>
            Number(a.lifecycleState !== "Warmed:Pending") - Number(b.lifecycleState !== "Warmed:Pending") ||
            b.launchedAt - a.launchedAt,
        )
        .slice(0, live.length - target);
      for (const i of extra) this.terminate(g, i);
    }
    if (wp?.status === "PendingDelete" && !g.instances.some((i) => i.warm)) g.warmPool = undefined;
  }

  /** DeleteWarmPool with ForceDelete: the pool and its instances go at once. */
  forceDeleteWarmPool(g: GroupRecord): void {
    for (const i of g.instances.filter((x) => x.warm)) {
      this.set(g, i, "Warmed:Terminated");
      this.remove(g, i);
    }
    g.warmPool = undefined;
    this.reconcile(g);
  }

  close(): void {
    this.closed = true;
    for (const g of this.groups.values()) for (const i of g.instances) if (i.timer) clearTimeout(i.timer);
  }
}

/**
 * Which `count` of the serving instances a scale-in terminates, in the order of AWS's default
 * termination policy, among instances not protected from scale in only:
 *  1. the Availability Zone with the most serving instances (protected ones count) that has an
 *     unprotected one, so the zones stay balanced;
 *  2. in it, a Pending instance before an InService one (all share one launch template here,
 *     so AWS's "oldest launch template" step never decides);
 *  3. then the newest — the emulator's fixed stand-in for AWS's "closest to the next billing
 *     hour, then random", so tests can predict the victim.
 * Fewer than `count` when too few are unprotected: the rest wait until protection is removed.
 */
export function scaleInVictims(serving: InstanceRecord[], count: number): InstanceRecord[] {
  const perZone = new Map<string, number>();
  for (const i of serving) perZone.set(i.availabilityZone, (perZone.get(i.availabilityZone) ?? 0) + 1);
  const left = serving.filter((i) => !i.protectedFromScaleIn);
  const victims: InstanceRecord[] = [];
  while (victims.length < count && left.length > 0) {
    const zones = new Set(left.map((i) => i.availabilityZone));
    const zone = [...zones].sort(
      (a, b) => (perZone.get(b) ?? 0) - (perZone.get(a) ?? 0) || a.localeCompare(b),
    )[0];
    const pick = left
      .filter((i) => i.availabilityZone === zone)
      .sort(
        (a, b) =>
          Number(a.lifecycleState === "InService") - Number(b.lifecycleState === "InService") ||
          b.launchedAt - a.launchedAt,
      )[0] as InstanceRecord;
    victims.push(pick);
    left.splice(left.indexOf(pick), 1);
    perZone.set(pick.availabilityZone, (perZone.get(pick.availabilityZone) ?? 1) - 1);
  }
  return victims;
}
