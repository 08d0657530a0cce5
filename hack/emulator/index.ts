/**
 * A local ECS that speaks the real wire protocol (AWS JSON 1.1), so production code and the
 * AWS CLI run against it unchanged through `--endpoint-url`. See docs/emulator.md.
 *
 *   const emu = await startEmulator({ timeScale: 0.01 });
 *   const ecs = new ECSClient({ endpoint: emu.endpoint, region: "us-east-1", credentials: {...} });
 *   ...
 *   await emu.stop(); // also kills every task process it started
 */
import { AutoScalingApi } from "./autoscaling/api.js";
import { AutoScalingEngine } from "./autoscaling/engine.js";
import { DEFAULT_AUTOSCALING_TIMINGS, type AutoScalingTimings } from "./autoscaling/types.js";
import {
  ContainerInstances,
  describeContainerInstances,
  listContainerInstances,
} from "./container-instances.js";
import { Control, type EmulatorControl } from "./control.js";
import type { EcsContext, EcsHandler } from "./ecs-context.js";
import * as catalog from "./ecs-catalog.js";
import { runTask, startTask } from "./ecs-launch.js";
import * as tasks from "./ecs-tasks.js";
import { FaultBook } from "./faults.js";
import { Lifecycle } from "./lifecycle.js";
import { taskEnv } from "./metadata.js";
import { resolveOptions, type EmulatorOptions } from "./options.js";
import { EmulatorServer } from "./server.js";
import { Store } from "./store.js";
import { TaskProcesses } from "./task-process.js";
import { TokenBucket } from "./token-bucket.js";
import { EventBus } from "./events/bus.js";
import { SQS_HANDLERS } from "./sqs/api.js";
import { SqsService } from "./sqs/service.js";
import { clusterName } from "./store.js";

export type {
  EmulatorControl,
  CallCounts,
  CallRecord,
  CallOutcome,
  TaskSnapshot,
  AutoScalingGroupSnapshot,
  ContainerInstanceSnapshot,
} from "./control.js";
export type {
  AutoScalingOptions,
  AutoScalingGroupSeed,
  AutoScalingTimings,
  AutoScalingTimingsInput,
  WarmPoolSeed,
  PoolState,
} from "./autoscaling/types.js";
export { DEFAULT_AUTOSCALING_TIMINGS, INSTANCE_CAPACITY } from "./autoscaling/types.js";
export type { Fault, FaultView } from "./faults.js";
export { CAPACITY_UNAVAILABLE_REASON } from "./faults.js";
export type {
  EmulatorOptions,
  Latency,
  LifecycleLatencies,
  LaunchType,
  RateLimits,
  BucketRate,
  TaskProcessOptions,
} from "./options.js";
export { DEFAULT_RATE_LIMITS } from "./options.js";
export type { TaskRecord, TaskStatus } from "./types.js";
export type { QueueSnapshot } from "./control.js";
export type {
  EventRule,
  EventRuleInput,
  EventRecord,
  EventFeedSnapshot,
  TaskFeedCounts,
} from "./events/bus.js";
export type { EventEnvelope, TaskStateChangeDetail } from "./events/envelope.js";
export { TASK_STATE_CHANGE, ECS_SOURCE } from "./events/envelope.js";
export type { QueueSeed } from "./options.js";

export interface Emulator {
  /** "http://127.0.0.1:<port>" — pass as the SDK's `endpoint` or the CLI's `--endpoint-url`. */
  endpoint: string;
  port: number;
  region: string;
  accountId: string;
  control: EmulatorControl;
  /** Stops the server and kills every task process it started. */
  stop(): Promise<void>;
}

const HANDLERS: Record<string, EcsHandler> = {
  RunTask: runTask,
  StartTask: startTask,
  StopTask: tasks.stopTask,
  ListTasks: tasks.listTasks,
  DescribeTasks: tasks.describeTasks,
  CreateCluster: catalog.createCluster,
  DeleteCluster: catalog.deleteCluster,
  DescribeClusters: catalog.describeClusters,
  ListClusters: catalog.listClusters,
  RegisterTaskDefinition: catalog.registerTaskDefinition,
  DescribeTaskDefinition: catalog.describeTaskDefinition,
  DeregisterTaskDefinition: catalog.deregisterTaskDefinition,
  ListTaskDefinitions: catalog.listTaskDefinitions,
  TagResource: catalog.tagResource,
  UntagResource: catalog.untagResource,
  ListTagsForResource: catalog.listTagsForResource,
  ListContainerInstances: listContainerInstances,
  DescribeContainerInstances: describeContainerInstances,
};

const MUTATIONS = new Set(["RunTask", "StartTask", "StopTask"]);
const READS = new Set(["DescribeTasks", "ListTasks"]);

export async function startEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const opts = resolveOptions(options);
  const store = new Store(opts.region, opts.accountId);
  const faults = new FaultBook(opts.random);
  const processes = opts.taskProcess ? new TaskProcesses(opts.taskProcess) : undefined;
  const limits = opts.rateLimits;
  const mutations = limits ? new TokenBucket(limits.taskMutations) : undefined;
  const reads = limits ? new TokenBucket(limits.taskReads) : undefined;
  const launched = { count: 0 };
  let endpoint = "";
  const sqs = new SqsService(opts.region, opts.accountId, () => endpoint);
  const bus = new EventBus(
    sqs,
    faults,
    opts.region,
    opts.accountId,
    (ref) => (ref.startsWith("arn:") ? ref : store.arn(`cluster/${clusterName(ref)}`)),
    opts.eventLatencyMs,
  );
  for (const q of opts.queues) sqs.create(q.name, q.attributes);
  for (const r of opts.eventRules) bus.putRule(r);
  const lifecycle = new Lifecycle(opts, processes, {
    envFor: (t, c) => taskEnv(opts, endpoint, t, c),
    onStopped: (t) => ctx.placement?.release(t),
    onChange: (t) => bus.taskChanged(t),
  });
  const instances = new ContainerInstances(store);
  const ctx: EcsContext = {
    store,
    opts,
    lifecycle,
    faults,
    fargateBucket: limits ? new TokenBucket(limits.fargateLaunches) : undefined,
    placement: instances,
    launched,
  };
  const as = opts.autoScaling;
  const timings: AutoScalingTimings = {
    ...DEFAULT_AUTOSCALING_TIMINGS,
    ...as.timings,
    resume: { ...DEFAULT_AUTOSCALING_TIMINGS.resume, ...as.timings?.resume },
  };
  const engine = new AutoScalingEngine(timings, opts.timeScale, opts.random, instances, store, lifecycle);
  const autoScaling = new AutoScalingApi(engine, opts.region, opts.accountId, as.defaultCluster ?? "default");
  for (const seed of as.groups ?? []) {
    const g = autoScaling.newGroup(seed);
    if (seed.warmPool)
      g.warmPool = {
        minSize: seed.warmPool.minSize ?? 0,
        maxGroupPreparedCapacity: seed.warmPool.maxGroupPreparedCapacity,
        poolState: seed.warmPool.poolState ?? "Stopped",
        reuseOnScaleIn: seed.warmPool.reuseOnScaleIn ?? false,
      };
    engine.add(g);
  }
  const control = new Control(store, faults, launched, processes, {
    groups: () => engine.groups.values(),
    containerInstances: () => instances.all(),
    sqs,
    bus,
  });
  const server = new EmulatorServer({
    ecs: ctx,
    handlers: HANDLERS,
    bucketFor: (op) => (MUTATIONS.has(op) ? mutations : READS.has(op) ? reads : undefined),
    control,
    query: autoScaling,
    sqs: { service: sqs, handlers: SQS_HANDLERS },
  });
  const port = await server.listen(opts.port, opts.host);
  endpoint = `http://${opts.host}:${port}`;

  let stopped: Promise<void> | undefined;
  return {
    endpoint,
    port,
    region: opts.region,
    accountId: opts.accountId,
    control,
    stop: () =>
      (stopped ??= (async () => {
        engine.close();
        lifecycle.close();
        bus.close();
        sqs.close();
        await processes?.killAll();
        await server.close();
      })()),
  };
}
