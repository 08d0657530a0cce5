import { describe, expect, it } from "vitest";
import { buildConfig, parseDuration } from "../../pkg/reconciler/index.js";

const base = { pool: "agents", cluster: "prod", "task-definition": "agent" };

describe("reconciler flags", () => {
  it("builds a full configuration with defaults", () => {
    const c = buildConfig({
      ...base,
      subnets: "subnet-1, subnet-2",
      "security-groups": "sg-1",
      "launch-type": "fargate",
    });
    expect(c).toMatchObject({
      pool: "agents",
      redisUrl: "redis://127.0.0.1:6379",
      subnets: ["subnet-1", "subnet-2"],
      securityGroups: ["sg-1"],
      launchType: "FARGATE",
      resyncMs: 10_000,
      leaseTtlMs: 10_000,
      metricsPort: 9464,
    });
  });

  it("accepts rediss:// with a password and a capacity provider strategy", () => {
    const c = buildConfig({
      ...base,
      "redis-url": "rediss://:s3cret@cache:6380",
      "capacity-provider": "spot:3:1,od:1",
    });
    expect(c.redisUrl).toBe("rediss://:s3cret@cache:6380");
    expect(c.capacityProviders).toEqual([
      { capacityProvider: "spot", weight: 3, base: 1 },
      { capacityProvider: "od", weight: 1 },
    ]);
  });

  it("reports every problem at once, each naming its flag and the rule", () => {
    let msg = "";
    try {
      buildConfig({
        pool: "Bad_Pool",
        "redis-url": "http://x",
        "launch-type": "EC2",
        "capacity-provider": "spot",
        "resync-interval": "soon",
        "metrics-port": 70000,
      });
    } catch (e) {
      msg = (e as Error).message;
    }
    for (const needle of [
      "--pool",
      "--cluster (WARMPOOL_CLUSTER) is required",
      "--task-definition (WARMPOOL_TASK_DEFINITION) is required",
      "--redis-url: scheme must be redis://, rediss:// (TLS), redis+cluster:// or rediss+cluster://",
      "--launch-type and --capacity-provider exclude each other",
      '--resync-interval: "soon" is not a duration',
      "--metrics-port: must be 0–65535",
    ]) {
      expect(msg).toContain(needle);
    }
  });

  it("parses durations with units; a bare number is seconds", () => {
    expect(parseDuration("250ms", "x")).toBe(250);
    expect(parseDuration("2m", "x")).toBe(120_000);
    expect(parseDuration("3", "x")).toBe(3_000);
    expect(() => parseDuration("-1s", "--lease-ttl")).toThrow(/--lease-ttl/);
  });
});

describe("--placement-strategy", () => {
  it("defaults to binpack on memory for EC2 and EC2 capacity providers, none for FARGATE and no launch type", () => {
    expect(buildConfig({ ...base, "launch-type": "EC2" }).placementStrategy).toEqual([
      { type: "binpack", field: "memory" },
    ]);
    expect(buildConfig({ ...base, "capacity-provider": "ec2-cp" }).placementStrategy).toEqual([
      { type: "binpack", field: "memory" },
    ]);
    expect(buildConfig({ ...base, "launch-type": "FARGATE" }).placementStrategy).toEqual([]);
    expect(buildConfig({ ...base, "capacity-provider": "FARGATE_SPOT:1" }).placementStrategy).toEqual([]);
    expect(buildConfig(base).placementStrategy).toEqual([]);
  });

  it("takes none or type[:field] items, and names the flag and the rule when wrong", () => {
    expect(
      buildConfig({ ...base, "launch-type": "EC2", "placement-strategy": "none" }).placementStrategy,
    ).toEqual([]);
    expect(
      buildConfig({
        ...base,
        "launch-type": "EC2",
        "placement-strategy": "spread:attribute:ecs.availability-zone,binpack:cpu",
      }).placementStrategy,
    ).toEqual([
      { type: "spread", field: "attribute:ecs.availability-zone" },
      { type: "binpack", field: "cpu" },
    ]);
    expect(() =>
      buildConfig({ ...base, "launch-type": "EC2", "placement-strategy": "binpack:disk" }),
    ).toThrow(/--placement-strategy: "binpack:disk": binpack needs the field cpu or memory/);
    expect(() =>
      buildConfig({ ...base, "launch-type": "FARGATE", "placement-strategy": "binpack:memory" }),
    ).toThrow(/--placement-strategy: FARGATE takes no placement strategy/);
  });
});
