/**
 * EC2 Auto Scaling over the AWS Query protocol: CreateAutoScalingGroup, UpdateAutoScalingGroup,
 * DeleteAutoScalingGroup, DescribeAutoScalingGroups, SetDesiredCapacity, PutWarmPool,
 * DescribeWarmPool, DeleteWarmPool, SetInstanceProtection. Bad input answers `ValidationError` (HTTP 400) naming the
 * field, as the service does.
 */
import { randomUUID } from "node:crypto";
import { AwsError } from "../errors.js";
import type { QueryService } from "../server.js";
import type { AutoScalingEngine } from "./engine.js";
import { bool, int, required, validation } from "./params.js";
import { setInstanceProtection } from "./protection.js";
import { INSTANCE_CAPACITY, type GroupRecord, type InstanceRecord, type PoolState } from "./types.js";
import { memberList, memberStructs, queryError, queryResponse, type XmlNode } from "./xml.js";

const POOL_STATES: PoolState[] = ["Stopped", "Running", "Hibernated"];

interface Cursor {
  at: number;
  id: string;
}
const encode = (c: Cursor): string => Buffer.from(JSON.stringify(c)).toString("base64url");
function decode(token: string | null): Cursor | undefined {
  if (token === null) return undefined;
  try {
    const c = JSON.parse(Buffer.from(token, "base64url").toString("utf8")) as Cursor;
    if (typeof c.at === "number" && typeof c.id === "string") return c;
  } catch {
    // fall through
  }
  throw new AwsError("InvalidNextToken", "The token is invalid.");
}

export class AutoScalingApi implements QueryService {
  private readonly actions: Record<string, (p: URLSearchParams) => XmlNode | undefined>;

  constructor(
    private readonly engine: AutoScalingEngine,
    private readonly region: string,
    private readonly accountId: string,
    private readonly defaultCluster: string,
  ) {
    this.actions = {
      CreateAutoScalingGroup: (p) => this.create(p),
      UpdateAutoScalingGroup: (p) => this.update(p),
      DeleteAutoScalingGroup: (p) => this.deleteGroup(p),
      DescribeAutoScalingGroups: (p) => this.describeGroups(p),
      SetDesiredCapacity: (p) => this.setDesired(p),
      PutWarmPool: (p) => this.putWarmPool(p),
      DescribeWarmPool: (p) => this.describeWarmPool(p),
      DeleteWarmPool: (p) => this.deleteWarmPool(p),
      SetInstanceProtection: (p) => setInstanceProtection(this.engine, (name) => this.group(name), p),
    };
  }

  has(action: string): boolean {
    return action in this.actions;
  }

  handle(action: string, p: URLSearchParams): string {
    const version = p.get("Version");
    if (version !== null && version !== "2011-01-01")
      throw new AwsError("InvalidAction", `Could not find operation ${action} for version ${version}`);
    const fn = this.actions[action] as (p: URLSearchParams) => XmlNode | undefined;
    return queryResponse(action, fn(p));
  }

  errorXml(err: AwsError, requestId: string): string {
    return queryError(err.code, err.message, err.status, requestId);
  }

  /** Builds a group record from a seed or a CreateAutoScalingGroup call. */
  newGroup(seed: {
    name: string;
    minSize: number;
    maxSize: number;
    desiredCapacity?: number;
    cluster?: string;
    instanceType?: string;
    capacity?: { cpu: number; memory: number };
    availabilityZones?: string[];
    tags?: GroupRecord["tags"];
    newInstancesProtectedFromScaleIn?: boolean;
  }): GroupRecord {
    if (seed.minSize > seed.maxSize) throw validation("MinSize must be less than or equal to MaxSize");
    const desired = seed.desiredCapacity ?? seed.minSize;
    if (desired < seed.minSize || desired > seed.maxSize)
      throw validation(
        `Desired capacity:${desired} must be between the specified min size:${seed.minSize} and max size:${seed.maxSize}`,
      );
    const type = seed.instanceType ?? "t3.medium";
    return {
      name: seed.name,
      arn: `arn:aws:autoscaling:${this.region}:${this.accountId}:autoScalingGroup:${randomUUID()}:autoScalingGroupName/${seed.name}`,
      minSize: seed.minSize,
      maxSize: seed.maxSize,
      desiredCapacity: desired,
      cluster: seed.cluster ?? this.defaultCluster,
      instanceType: type,
      capacity: seed.capacity ?? INSTANCE_CAPACITY[type] ?? { cpu: 2048, memory: 3904 },
      availabilityZones: seed.availabilityZones?.length
        ? seed.availabilityZones
        : [`${this.region}a`, `${this.region}b`],
      createdAt: Date.now(),
      tags: seed.tags ?? [],
      newInstancesProtectedFromScaleIn: seed.newInstancesProtectedFromScaleIn ?? false,
      instances: [],
    };
  }

  private group(name: string): GroupRecord {
    const g = this.engine.groups.get(name);
    if (!g) throw validation(`AutoScalingGroup name not found - ${name}`);
    return g;
  }

  private create(p: URLSearchParams): undefined {
    const name = required(p, "AutoScalingGroupName");
    if (this.engine.groups.has(name))
      throw new AwsError(
        "AlreadyExists",
        `AutoScalingGroup by this name already exists - A group with the name ${name} already exists`,
      );
    const minSize = int(p, "MinSize", 0);
    const maxSize = int(p, "MaxSize", 0);
    if (minSize === undefined) required(p, "MinSize");
    if (maxSize === undefined) required(p, "MaxSize");
    const tags = memberStructs(p, "Tags").map((t) => ({
      key: t.Key ?? "",
      value: t.Value ?? "",
      propagateAtLaunch: t.PropagateAtLaunch === "true",
    }));
    const tag = (k: string): string | undefined => tags.find((t) => t.key === k)?.value;
    const g = this.newGroup({
      name,
      minSize: minSize as number,
      maxSize: maxSize as number,
      desiredCapacity: int(p, "DesiredCapacity", 0),
      cluster: tag("emulator:ecs-cluster"),
      instanceType: tag("emulator:instance-type"),
      availabilityZones: memberList(p, "AvailabilityZones"),
      tags,
      newInstancesProtectedFromScaleIn: bool(p, "NewInstancesProtectedFromScaleIn"),
    });
    this.engine.add(g);
    return undefined;
  }

  private update(p: URLSearchParams): undefined {
    const g = this.group(required(p, "AutoScalingGroupName"));
    const minSize = int(p, "MinSize", 0) ?? g.minSize;
    const maxSize = int(p, "MaxSize", 0) ?? g.maxSize;
    if (minSize > maxSize) throw validation("MinSize must be less than or equal to MaxSize");
    let desired = int(p, "DesiredCapacity", 0) ?? g.desiredCapacity;
    if (p.get("DesiredCapacity") !== null && (desired < minSize || desired > maxSize))
      throw validation(
        `Desired capacity:${desired} must be between the specified min size:${minSize} and max size:${maxSize}`,
      );
    desired = Math.min(maxSize, Math.max(minSize, desired));
    Object.assign(g, { minSize, maxSize, desiredCapacity: desired });
    // Applies to instances that enter the group from now on, not to those in it (as AWS).
    g.newInstancesProtectedFromScaleIn =
      bool(p, "NewInstancesProtectedFromScaleIn") ?? g.newInstancesProtectedFromScaleIn;
    this.engine.reconcile(g);
    return undefined;
  }

  private deleteGroup(p: URLSearchParams): undefined {
    const g = this.group(required(p, "AutoScalingGroupName"));
    const force = bool(p, "ForceDelete") ?? false;
    if (!force && g.instances.length > 0)
      throw new AwsError(
        "ResourceInUse",
        "You cannot delete an AutoScalingGroup while there are instances or pending Spot instance request(s) still in the group.",
      );
    g.warmPool = undefined;
    g.minSize = 0;
    g.desiredCapacity = 0;
    this.engine.forceDeleteWarmPool(g);
    this.engine.groups.delete(g.name);
    return undefined;
  }

  private setDesired(p: URLSearchParams): undefined {
    const g = this.group(required(p, "AutoScalingGroupName"));
    const desired = int(p, "DesiredCapacity", 0);
    if (desired === undefined) required(p, "DesiredCapacity");
    const d = desired as number;
    if (d > g.maxSize)
      throw validation(
        `New SetDesiredCapacity value ${d} is above max value ${g.maxSize} for the AutoScalingGroup.`,
      );
    if (d < g.minSize)
      throw validation(
        `New SetDesiredCapacity value ${d} is below min value ${g.minSize} for the AutoScalingGroup.`,
      );
    g.desiredCapacity = d;
    this.engine.reconcile(g);
    return undefined;
  }

  private putWarmPool(p: URLSearchParams): XmlNode {
    const g = this.group(required(p, "AutoScalingGroupName"));
    const minSize = int(p, "MinSize", 0) ?? 0;
    const mgpc = int(p, "MaxGroupPreparedCapacity", -1);
    if (mgpc !== undefined && mgpc !== -1 && mgpc < minSize)
      throw validation(
        "MaxGroupPreparedCapacity must be -1 or greater than or equal to the warm pool MinSize.",
      );
    const state = p.get("PoolState") ?? "Stopped";
    if (!POOL_STATES.includes(state as PoolState))
      throw validation(
        `1 validation error detected: Value '${state}' at 'poolState' failed to satisfy constraint: Member must satisfy enum value set: [${POOL_STATES.join(", ")}]`,
      );
    if (g.warmPool?.status === "PendingDelete")
      throw new AwsError("ResourceInUse", "The warm pool is being deleted; try again once it is gone.");
    g.warmPool = {
      minSize,
      maxGroupPreparedCapacity: mgpc === -1 ? undefined : mgpc,
      poolState: state as PoolState,
      reuseOnScaleIn: bool(p, "InstanceReusePolicy.ReuseOnScaleIn") ?? false,
    };
    this.engine.reconcile(g);
    return {};
  }

  private deleteWarmPool(p: URLSearchParams): XmlNode {
    const g = this.group(required(p, "AutoScalingGroupName"));
    if (!g.warmPool) throw validation(`No warm pool found for Auto Scaling group ${g.name}.`);
    if (bool(p, "ForceDelete")) this.engine.forceDeleteWarmPool(g);
    else {
      g.warmPool.status = "PendingDelete";
      this.engine.reconcile(g);
    }
    return {};
  }

  private describeWarmPool(p: URLSearchParams): XmlNode {
    const g = this.group(required(p, "AutoScalingGroupName"));
    const max = int(p, "MaxRecords", 1, 50) ?? 50;
    const after = decode(p.get("NextToken"));
    const warm = g.instances
      .filter((i) => i.warm)
      .filter(
        (i) => !after || i.launchedAt > after.at || (i.launchedAt === after.at && i.instanceId > after.id),
      )
      .sort((a, b) => a.launchedAt - b.launchedAt || a.instanceId.localeCompare(b.instanceId));
    const page = warm.slice(0, max);
    const last = page[page.length - 1];
    return {
      WarmPoolConfiguration: g.warmPool ? this.wireWarmPool(g) : undefined,
      Instances: page.map((i) => this.wireInstance(g, i)),
      NextToken: warm.length > max && last ? encode({ at: last.launchedAt, id: last.instanceId }) : undefined,
    };
  }

  private describeGroups(p: URLSearchParams): XmlNode {
    const names = memberList(p, "AutoScalingGroupNames");
    const max = int(p, "MaxRecords", 1, 100) ?? 50;
    const token = p.get("NextToken");
    let start = 0;
    if (token !== null) {
      start = Number(token);
      if (!Number.isInteger(start) || start < 0)
        throw new AwsError("InvalidNextToken", "The token is invalid.");
    }
    const all = [...this.engine.groups.values()].filter((g) => names.length === 0 || names.includes(g.name));
    const page = all.slice(start, start + max);
    return {
      AutoScalingGroups: page.map((g) => this.wireGroup(g)),
      NextToken: start + max < all.length ? String(start + max) : undefined,
    };
  }

  private wireWarmPool(g: GroupRecord): XmlNode {
    const wp = g.warmPool as NonNullable<GroupRecord["warmPool"]>;
    return {
      MaxGroupPreparedCapacity: wp.maxGroupPreparedCapacity,
      MinSize: wp.minSize,
      PoolState: wp.poolState,
      Status: wp.status,
      InstanceReusePolicy: { ReuseOnScaleIn: wp.reuseOnScaleIn },
    };
  }

  private wireInstance(_g: GroupRecord, i: InstanceRecord): XmlNode {
    return {
      InstanceId: i.instanceId,
      InstanceType: i.instanceType,
      AvailabilityZone: i.availabilityZone,
      LifecycleState: i.lifecycleState,
      HealthStatus: "Healthy",
      ProtectedFromScaleIn: i.protectedFromScaleIn,
    };
  }

  private wireGroup(g: GroupRecord): XmlNode {
    return {
      AutoScalingGroupName: g.name,
      AutoScalingGroupARN: g.arn,
      MinSize: g.minSize,
      MaxSize: g.maxSize,
      DesiredCapacity: g.desiredCapacity,
      DefaultCooldown: 300,
      AvailabilityZones: g.availabilityZones,
      LoadBalancerNames: [],
      TargetGroupARNs: [],
      HealthCheckType: "EC2",
      HealthCheckGracePeriod: 0,
      Instances: g.instances.filter((i) => !i.warm).map((i) => this.wireInstance(g, i)),
      CreatedTime: new Date(g.createdAt),
      SuspendedProcesses: [],
      EnabledMetrics: [],
      Tags: g.tags.map((t) => ({
        ResourceId: g.name,
        ResourceType: "auto-scaling-group",
        Key: t.key,
        Value: t.value,
        PropagateAtLaunch: t.propagateAtLaunch,
      })),
      TerminationPolicies: ["Default"],
      NewInstancesProtectedFromScaleIn: g.newInstancesProtectedFromScaleIn,
      WarmPoolConfiguration: g.warmPool ? this.wireWarmPool(g) : undefined,
      WarmPoolSize: g.warmPool ? g.instances.filter((i) => i.warm).length : undefined,
    };
  }
}
