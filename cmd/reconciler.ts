/**
 * `warmpool reconciler`: the singleton control loop (DESIGN §2, §6). Declares its flags (each
 * also read from WARMPOOL_<FLAG>), validates them all at once and runs pkg/reconciler until
 * SIGTERM/SIGINT, then finishes or abandons the pass, releases the lease and exits 0.
 */
import type { CommandModule } from "yargs";
import {
  buildConfig,
  FLAGS as F,
  LAUNCH_TYPES,
  LOG_LEVELS,
  OBSERVE,
  startFleetProcess,
  startReconcilerProcess,
} from "../pkg/reconciler/index.js";

export const reconcilerCommand: CommandModule<object, Record<string, unknown>> = {
  command: "reconciler",
  describe: "run the control loop that keeps the pool at its desired state (leader-elected)",
  builder: (y) =>
    y
      .option(F.pool, {
        type: "string",
        describe: "pool name (ECS startedBy, Redis key prefix): serve this one pool (the default mode)",
      })
      .option(F.pools, {
        type: "string",
        describe: "serve these registered pools (comma separated), shared with other replicas",
      })
      .option(F.poolSelector, {
        type: "string",
        describe: "serve the registered pools with these labels (k=v,k=v), shared with other replicas",
      })
      .option(F.allPools, {
        type: "boolean",
        describe: "serve every registered pool (`warmpool ctl pool create`), shared with other replicas",
      })
      .option(F.fleetTtl, {
        type: "string",
        describe:
          "many pools: a replica not heard from for this long is gone and its pools move (default 5s)",
      })
      .option(F.awsAccount, {
        type: "string",
        describe: "many pools: account name of the shared AWS budget's Redis key (default `default`)",
      })
      .option(F.budgetEcsRead, {
        type: "number",
        describe:
          "many pools: List/Describe calls/s every pool and replica of the account and region spend together (default 2; ECS allows 20)",
      })
      .option(F.budgetEcsWrite, {
        type: "number",
        describe:
          "many pools: Run/Stop calls/s every pool and replica of the account and region spend together (default 4; ECS allows 40)",
      })
      .option(F.budgetAsg, {
        type: "number",
        describe:
          "many pools: EC2 Auto Scaling calls/s (every API: Describe*, PutWarmPool, SetDesiredCapacity, …) every pool and replica of the account and region spend together (default 5; AWS publishes no figure for its one shared bucket)",
      })
      .option(F.feedHandoffVisibility, {
        type: "string",
        describe:
          "many pools: an event of a pool another replica serves goes back to the queue with this visibility (whole seconds, 1s–43200s; default 2s)",
      })
      .option(F.feedHandoffMaxReceives, {
        type: "number",
        describe:
          "many pools: such an event is deleted all the same once received this often (1–1000; default 50)",
      })
      .option(F.cluster, { type: "string", describe: "ECS cluster name or ARN" })
      .option(F.taskDefinition, {
        type: "string",
        describe: "task definition (family[:revision] or ARN) when the desired state names none",
      })
      .option(F.redisUrl, {
        type: "string",
        default: "redis://127.0.0.1:6379",
        describe:
          "redis:// or rediss:// (TLS); password as redis://:PASS@host; a Redis Cluster as redis+cluster://host:port[,host:port…] (rediss+cluster:// for TLS)",
      })
      .option(F.region, { type: "string", describe: "AWS region (default AWS_REGION, else us-east-1)" })
      .option(F.endpointUrl, {
        type: "string",
        describe: "ECS endpoint override (the local emulator, a VPC endpoint)",
      })
      .option(F.subnets, { type: "string", describe: "awsvpc subnets, comma separated" })
      .option(F.securityGroups, { type: "string", describe: "awsvpc security groups, comma separated" })
      .option(F.assignPublicIp, {
        type: "boolean",
        default: false,
        describe: "give tasks a public IP (Fargate in public subnets)",
      })
      .option(F.launchType, {
        type: "string",
        choices: LAUNCH_TYPES as unknown as string[],
        describe: "launch type (or use --capacity-provider)",
      })
      .option(F.capacityProvider, {
        type: "string",
        describe: "capacity provider strategy: name[:weight[:base]], comma separated",
      })
      .option(F.placementStrategy, {
        type: "string",
        describe:
          "RunTask placement: none or type[:field],… (default binpack:memory on EC2, none on Fargate)",
      })
      .option(F.resyncInterval, {
        type: "string",
        default: "10s",
        describe: "periodic pass interval (jittered ±10%); events wake a pass at once",
      })
      .option(F.leaseTtl, {
        type: "string",
        default: "10s",
        describe: "leader lease TTL: a standby takes over within it",
      })
      .option(F.registerTimeout, {
        type: "string",
        describe: "stop a task whose bridge has not registered by then (default 180s)",
      })
      .option(F.visibilityGrace, {
        type: "string",
        describe:
          "a launch not yet in ListTasks counts as starting for this long; an unrecorded task is an orphan after it (default 60s)",
      })
      .option(F.metricsPort, {
        type: "number",
        default: 9464,
        describe: "port of /metrics, /healthz, /readyz, /status",
      })
      .option(F.logLevel, {
        type: "string",
        default: "info",
        choices: LOG_LEVELS as unknown as string[],
        describe: "log level",
      })
      .option(F.observe, {
        type: "string",
        choices: OBSERVE as unknown as string[],
        default: "cache",
        describe:
          "cache: plan from a task cache (event feed, own writes, budgeted relists), no ECS read per pass; list: ListTasks + DescribeTasks every pass (older behaviour)",
      })
      .option(F.readBudget, {
        type: "number",
        describe:
          "List/Describe calls/s this reconciler may spend of the account's 20/s (default 2; list mode 20)",
      })
      .option(F.writeBudget, {
        type: "number",
        describe:
          "Run/Stop calls/s this reconciler may spend of the account's 40/s (default 10; list mode 40)",
      })
      .option(F.feedQueueUrl, {
        type: "string",
        describe:
          "SQS queue URL the EventBridge rule for ECS Task State Change fills (absent: no feed, relists only)",
      })
      .option(F.sqsEndpointUrl, {
        type: "string",
        describe: "SQS endpoint override (default --endpoint-url)",
      })
      .option(F.relistInterval, {
        type: "string",
        default: "5m",
        describe: "full ListTasks + DescribeTasks to repair the cache this often (and on taking the lease)",
      })
      .option(F.recordReread, {
        type: "string",
        default: "5m",
        describe:
          "cache mode: read every task record this often (and on taking the lease); passes between read only what the events stream names",
      })
      .option(F.fastRefill, {
        type: "string",
        choices: ["on", "off"],
        default: "on",
        describe:
          "a claim that crosses the threshold starts its refill at once from O(1) counters, before the next pass",
      })
      .option(F.inDoubtGrace, {
        type: "string",
        default: "30s",
        describe: "a launch not registered by then (or an orphan candidate) is described once",
      })
      .option(F.feedWait, { type: "number", default: 20, describe: "ReceiveMessage WaitTimeSeconds (0–20)" })
      .option(F.readRate, { type: "number", describe: "older name of --ecs-read-budget (wins when given)" })
      .option(F.writeRate, { type: "number", describe: "older name of --ecs-write-budget (wins when given)" })
      .example(
        "$0 reconciler --pool agents --cluster prod --task-definition agent --subnets subnet-1,subnet-2 --security-groups sg-1 --launch-type FARGATE",
        "run against AWS",
      )
      .example(
        "$0 reconciler --all-pools --cluster prod --task-definition agent --budget-ecs-read 4 --budget-ecs-write 8",
        "serve every registered pool, sharing them with the other replicas started the same way",
      )
      .example(
        "WARMPOOL_POOL=dev WARMPOOL_CLUSTER=default WARMPOOL_TASK_DEFINITION=agent $0 reconciler --endpoint-url http://127.0.0.1:4566",
        "run against the local emulator, configured from the environment",
      ),
  handler: async (argv) => {
    const cfg = buildConfig(argv);
    const proc = cfg.fleet ? await startFleetProcess(cfg) : await startReconcilerProcess(cfg);
    await new Promise<void>((resolve) => {
      const done = (): void => {
        process.off("SIGTERM", done);
        process.off("SIGINT", done);
        resolve();
      };
      process.once("SIGTERM", done);
      process.once("SIGINT", done);
    });
    await proc.stop();
    process.exit(0);
  },
};
