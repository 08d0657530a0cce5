/**
 * The module and the processes it deploys agree. Every WARMPOOL_* variable a task definition sets
 * is a flag its `warmpool` subcommand declares; and the real reconciler, configured only from the
 * module's environment, launches — over HTTP, through the real SDK, into the ECS emulator — tasks
 * of exactly the family, container, startedBy, tags and capacity provider the module defines,
 * calling no ECS API the module's IAM policy does not grant.
 */
import { ECSClient, RegisterTaskDefinitionCommand, type ContainerDefinition } from "@aws-sdk/client-ecs";
import { Redis } from "ioredis";
import { Registry } from "prom-client";
import { afterAll, describe, expect, it } from "vitest";
import yargs, { type Argv, type CommandModule } from "yargs";
import { bridgeCommand } from "../../cmd/bridge.js";
import { gatewayCommand } from "../../cmd/gateway.js";
import { reconcilerCommand } from "../../cmd/reconciler.js";
import { startEmulator, type Emulator } from "../../hack/emulator/index.js";
import { PoolKeys } from "../../pkg/keys/index.js";
import { createLogger } from "../../pkg/log/index.js";
import { createMetrics } from "../../pkg/metrics/index.js";
import { buildConfig, startReconcilerProcess, type ReconcilerProcess } from "../../pkg/reconciler/index.js";
import { startPrivateRedis, waitFor, type PrivateRedis } from "../harness/index.js";
import { plain, spell, type Value } from "./hcl/index.js";
import { evaluate } from "./fixtures.js";
import { policyStatements } from "./terraform-module.js";

// The emulator checks no signature; the SDK still wants credentials to sign with.
process.env.AWS_ACCESS_KEY_ID ||= "test";
process.env.AWS_SECRET_ACCESS_KEY ||= "test";

interface Container {
  name: string;
  environment: { name: string; value: string }[];
  secrets: { name: string; valueFrom: string }[];
  portMappings: { containerPort: number }[];
}

const containerOf = (td: Record<string, Value>): Container =>
  (JSON.parse(td["container_definitions"] as string) as Container[])[0]!;

/** The long option names a subcommand declares (what WARMPOOL_<NAME> may set). */
function declaredFlags(cmd: CommandModule<object, never>): Set<string> {
  const y = yargs([]);
  (cmd.builder as (y: Argv) => Argv)(y);
  const opts = (y as unknown as { getOptions(): { key: Record<string, unknown> } }).getOptions();
  return new Set(Object.keys(opts.key));
}

const flagOf = (env: string): string =>
  env
    .replace(/^WARMPOOL_/, "")
    .toLowerCase()
    .replace(/_/g, "-");

describe("the module's task definitions and the processes they run", () => {
  const m = evaluate();
  const cases: [string, CommandModule<object, never>][] = [
    ["pool", bridgeCommand as CommandModule<object, never>],
    ["gateway", gatewayCommand as CommandModule<object, never>],
    ["reconciler", reconcilerCommand as CommandModule<object, never>],
  ];

  it.each(cases)("every WARMPOOL_* variable of the %s task is a flag of its command", (name, cmd) => {
    const flags = declaredFlags(cmd);
    const c = containerOf(m.one(`aws_ecs_task_definition.${name}`));
    const names = [...c.environment.map((e) => e.name), ...c.secrets.map((s) => s.name)];
    expect(names.length).toBeGreaterThan(2);
    for (const n of names.filter((x) => x.startsWith("WARMPOOL_"))) {
      expect(flags.has(flagOf(n)), `${name}: ${n} → --${flagOf(n)}`).toBe(true);
    }
  });

  it("the bridge serves on the port the task definition maps; the gateway on the one the LB targets", () => {
    const pool = containerOf(m.one("aws_ecs_task_definition.pool"));
    const env = Object.fromEntries(pool.environment.map((e) => [e.name, e.value]));
    expect(pool.portMappings.map((p) => p.containerPort)).toEqual([Number(env["WARMPOOL_SESSION_PORT"])]);
    expect(env["WARMPOOL_LISTEN_HOST"]).toBe("0.0.0.0");
    const gw = containerOf(m.one("aws_ecs_task_definition.gateway"));
    const genv = Object.fromEntries(gw.environment.map((e) => [e.name, e.value]));
    const lb = (m.one("aws_ecs_service.gateway")["load_balancer"] as Record<string, Value>[])[0]!;
    expect(Number(genv["WARMPOOL_PORT"])).toBe(lb["container_port"]);
    expect(genv["WARMPOOL_HOST"]).toBe("0.0.0.0");
  });

  it("the load balancer outlasts the longest claim wait the gateway allows", () => {
    const y = yargs([]);
    (gatewayCommand.builder as (y: Argv) => Argv)(y);
    const opts = (y as unknown as { getOptions(): { default: Record<string, unknown> } }).getOptions();
    const maxWaitMs = Number(opts.default["max-wait-ms"]);
    expect(maxWaitMs).toBeGreaterThan(0);
    expect(Number(m.one("aws_lb.gateway")["idle_timeout"]) * 1000).toBeGreaterThan(maxWaitMs);
  });
});

describe("the reconciler, configured by the module, launches what the module defines", () => {
  let emu: Emulator | undefined;
  let redisServer: PrivateRedis | undefined;
  let redis: Redis | undefined;
  let proc: ReconcilerProcess | undefined;
  afterAll(async () => {
    await proc?.stop();
    await emu?.stop();
    redis?.disconnect();
    await redisServer?.stop();
  });

  it("RunTask: family, container, startedBy, tags and capacity provider agree; every call is granted", async () => {
    // An ASG whose instances join the cluster, so RunTask on the capacity provider can place tasks.
    emu = await startEmulator({
      timeScale: 0.01,
      autoScaling: {
        groups: [
          { name: "demo-pool", minSize: 1, maxSize: 1, desiredCapacity: 1, instanceType: "m5.xlarge" },
        ],
      },
    });
    const clusterArn = `arn:aws:ecs:${emu.region}:${emu.accountId}:cluster/default`;
    const m = evaluate({ existing_cluster_arn: clusterArn, region: emu.region });
    const family = m.local("pool_family") as string;
    const pool = m.local("pool") as string;
    const poolTags = m.local("pool_tags") as Record<string, string>;

    // Register the pool task definition exactly as the module renders it.
    const td = m.one("aws_ecs_task_definition.pool");
    const ecs = new ECSClient({ endpoint: emu.endpoint, region: emu.region, maxAttempts: 1 });
    await ecs.send(
      new RegisterTaskDefinitionCommand({
        family: td["family"] as string,
        networkMode: td["network_mode"] as "awsvpc",
        requiresCompatibilities: td["requires_compatibilities"] as ["EC2"],
        cpu: td["cpu"] as string,
        memory: td["memory"] as string,
        containerDefinitions: JSON.parse(td["container_definitions"] as string) as ContainerDefinition[],
        tags: Object.entries(plain(td["tags"]!) as Record<string, string>).map(([key, value]) => ({
          key,
          value,
        })),
      }),
    );
    ecs.destroy();
    await waitFor(
      "a container instance in the cluster",
      () => emu!.control.containerInstances().some((ci) => ci.status === "ACTIVE"),
      30_000,
    );

    // The reconciler's flags are the module's WARMPOOL_* environment, plus where this test's
    // Redis and ECS are. A security-group ID only AWS would know gets a stand-in.
    const env = m.local("reconciler_env") as Record<string, Value>;
    const flags: Record<string, string> = {};
    for (const [k, v] of Object.entries(env))
      flags[flagOf(k)] = spell(v).includes("${") ? "sg-0test" : spell(v);
    expect(flags["cluster"]).toBe(clusterArn);
    redisServer = await startPrivateRedis();
    redis = new Redis(redisServer.url, { maxRetriesPerRequest: 1 });
    const keys = new PoolKeys(pool);
    // With an `asg` block, so the capacity pass's Auto Scaling and container-instance calls are
    // checked against the policy too.
    await redis.set(
      keys.config,
      JSON.stringify({ minWarm: 2, maxWarm: 4, replenishThreshold: 1, asg: { groupName: "demo-pool" } }),
    );
    const cfg = buildConfig({
      ...flags,
      "redis-url": redisServer.url,
      "endpoint-url": emu.endpoint,
      "metrics-port": "0",
      "resync-interval": "300ms",
      "log-level": "silent",
    });
    proc = await startReconcilerProcess(cfg, {
      metrics: createMetrics(new Registry(), { defaults: false }),
      log: createLogger({ level: "silent", bindings: { component: "reconciler", pool } }),
      host: "127.0.0.1",
    });

    const launched = () => emu!.control.tasks().filter((t) => t.startedBy === pool);
    await waitFor("two pool tasks launched", () => launched().length >= 2, 30_000);

    const container = containerOf(td);
    for (const t of launched()) {
      expect(t.family).toBe(family);
      expect(t.clusterName).toBe("default");
      expect(t.startedBy).toBe(pool);
      expect(t.capacityProviderName).toBe(m.local("capacity_provider"));
      expect(t.containers.map((c) => c.name)).toEqual([container.name]);
      for (const [key, value] of Object.entries(poolTags)) expect(t.tags).toContainEqual({ key, value });
    }

    // The capacity pass ran against the group (it observes it every pass).
    await waitFor(
      "the capacity pass observed the group",
      () => (emu!.control.calls().DescribeAutoScalingGroups?.ok ?? 0) > 0,
      15_000,
    );

    // Least privilege, from the other side: every ECS and Auto Scaling call the reconciler made
    // is granted.
    const granted = new Set(policyStatements(m, "reconciler").flatMap((s) => s.actions));
    const AUTO_SCALING = new Set([
      "DescribeAutoScalingGroups",
      "DescribeWarmPool",
      "PutWarmPool",
      "SetDesiredCapacity",
      "SetInstanceProtection",
    ]);
    const called = Object.entries(emu.control.calls())
      .filter(([, c]) => c.ok + c.error + c.throttled > 0)
      .map(([op]) => `${AUTO_SCALING.has(op) ? "autoscaling" : "ecs"}:${op}`);
    expect(called).toContain("ecs:RunTask");
    expect(called).toContain("autoscaling:DescribeAutoScalingGroups");
    expect(called).toContain("autoscaling:DescribeWarmPool");
    expect(called).toContain("ecs:ListContainerInstances");
    for (const action of called) {
      if (action === "ecs:RegisterTaskDefinition") continue; // this test's own call
      expect(granted.has(action), `${action} is called but not granted`).toBe(true);
    }
  });
});
