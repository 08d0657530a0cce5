import { createServer, type Server } from "node:http";
import type { Metrics } from "../../pkg/metrics/index.js";

/**
 * Feeds a metric factory with three pools, as a reconciler and a gateway would:
 *   healthy — warm tasks to spare, fast claims, no failures: every alert must stay quiet;
 *   broken  — empty while claims wait, slow cold claims, no leader, an invalid desired state,
 *             throttled RunTask, failed and never-registering starts, expiring leases, a
 *             stalled loop, tasks whose records Redis lost: every alert must fire;
 *   gone    — had a leader whose process then vanished (its series go stale).
 * Gauges are set once, counters and histograms move on every tick.
 */
export const POOLS = { healthy: "healthy", broken: "broken", gone: "gone" } as const;

export interface Scenario {
  /** Drops the `gone` pool's leader series, as a reconciler that exits would. */
  stopGoneLeader(): void;
  stop(): void;
}

export function runScenario(m: Metrics, tickMs = 200): Scenario {
  const h = { pool: POOLS.healthy };
  const b = { pool: POOLS.broken };
  const nowS = (): number => Date.now() / 1000;

  const states = (pool: string, counts: [number, number, number, number, number]): void => {
    (["starting", "warm", "claimed", "draining", "unaccounted"] as const).forEach((state, i) =>
      m.tasks.set({ pool, state }, counts[i] as number),
    );
  };
  states(h.pool, [1, 5, 3, 1, 0]);
  states(b.pool, [0, 0, 8, 2, 2]);
  for (const [labels, desired, util, waiting, idle, leader, valid] of [
    [h, 5, 0.3, 0, 42, 1, 1],
    [b, 5, 1, 3, 0, 0, 0],
  ] as const) {
    m.desiredWarm.set(labels, desired);
    m.utilization.set(labels, util);
    m.claimsWaiting.set(labels, waiting);
    m.oldestIdleSeconds.set(labels, idle);
    m.leader.set(labels, leader);
    m.configValid.set(labels, valid);
    m.policyArrivalRate.set(labels, 0.5);
    m.policyStartP90.set(labels, 14);
    m.policyExpectedDemand.set(labels, 7);
    m.policyRawTarget.set(labels, 9);
    m.policyTarget.set(labels, desired);
    m.rolloutOutdated.set(labels, labels === b ? 3 : 0);
  }
  m.leader.set({ pool: POOLS.gone }, 1);
  m.asgInstances.set({ ...h, state: "InService" }, 4);
  m.asgInstances.set({ ...h, state: "Warmed:Hibernated" }, 2);
  m.asgInstances.set({ ...b, state: "InService" }, 2);
  m.asgInstances.set({ ...b, state: "Warmed:Hibernated" }, 0);
  // Healthy: 4 InService as desired, 2 more prepared in the warm pool. Broken: wants 4, has 2.
  m.asgDesiredCapacity.set(h, 4);
  m.asgPreparedCapacity.set(h, 6);
  m.asgDesiredCapacity.set(b, 4);
  m.asgPreparedCapacity.set(b, 4);
  m.awsQueueDepth.set({ ...h, api: "RunTask" }, 0);
  m.awsQueueDepth.set({ ...b, api: "RunTask" }, 25);
  // Counters that exist on the healthy pool but never move there. It never queues a claim nor
  // sees a throttle, and those series stay absent, as in a process that does not initialise
  // them: the panels over them must still show 0, not "no data".
  m.configRejectionsTotal.inc(h, 0);
  // Observing ECS: both pools on the event feed; healthy's is up with no drift, broken's is down
  // and every relist finds the cache wrong.
  for (const [labels, up, drift] of [
    [h, 1, 0],
    [b, 0, 4],
  ] as const) {
    for (const mode of ["list", "feed", "relist-only"] as const)
      m.observeMode.set({ ...labels, mode }, mode === "feed" ? 1 : 0);
    m.feedUp.set(labels, up);
    m.relistDrift.set(labels, drift);
    m.ecsBudget.set({ ...labels, family: "read" }, 2);
    m.ecsBudget.set({ ...labels, family: "write" }, 4);
  }
  // The account's shared budget (many-pools mode): configured per API class, spent every tick.
  const acct = { account: "123456789012", region: "us-east-1" };
  m.awsBudget.set({ ...acct, api: "ecs-read" }, 2);
  m.awsBudget.set({ ...acct, api: "ecs-write" }, 4);
  m.cacheDriftTotal.inc({ ...h, kind: "full" }, 0);
  m.runTaskFailuresTotal.inc({ ...h, reason: "RESOURCE:CPU" }, 1);
  m.leaseExpiriesTotal.inc(h, 1);

  const tick = (): void => {
    m.awsBudgetSpent.inc({ ...acct, api: "ecs-read" }, 1);
    m.awsBudgetSpent.inc({ ...acct, api: "ecs-write" }, 2);
    m.lastPassTimestamp.set(h, nowS());
    m.lastPassTimestamp.set(b, nowS() - 600);

    m.claimsTotal.inc({ ...h, outcome: "hit" });
    m.claimDuration.observe({ ...h, outcome: "hit" }, 0.8);
    m.claimsTotal.inc({ ...b, outcome: "queued" });
    m.claimDuration.observe({ ...b, outcome: "queued" }, 14);
    m.claimsTotal.inc({ ...b, outcome: "timeout" });

    m.taskStartDuration.observe(h, 12);
    m.taskStartDuration.observe(b, 150);
    m.refillDuration.observe(h, 20);
    m.refillDuration.observe(b, 400);

    m.reconcileDuration.observe(h, 0.05);
    m.reconcileTotal.inc({ ...h, result: "ok" });
    m.reconcileDuration.observe(b, 2);
    m.reconcileTotal.inc({ ...b, result: "partial" });

    for (const api of ["RunTask", "DescribeTasks"]) {
      m.awsRequestsTotal.inc({ ...h, api, outcome: "ok" });
      m.awsRequestDuration.observe({ ...h, api }, 0.05);
    }
    m.awsRequestsTotal.inc({ ...b, api: "RunTask", outcome: "ok" });
    m.awsRequestsTotal.inc({ ...b, api: "DescribeTasks", outcome: "ok" });
    m.awsRequestsTotal.inc({ ...b, api: "RunTask", outcome: "throttled" }, 2);
    m.awsRequestDuration.observe({ ...b, api: "RunTask" }, 1.5);

    m.actionsTotal.inc({ ...h, action: "run", reason: "below-target" });
    m.actionsTotal.inc({ ...h, action: "stop", reason: "released" });
    m.actionsTotal.inc({ ...b, action: "stop", reason: "never-registered" });
    m.runTaskFailuresTotal.inc({ ...b, reason: "RESOURCE:CPU" });
    m.leaseExpiriesTotal.inc(b, 3);
    m.configRejectionsTotal.inc(b);

    m.feedEventsTotal.inc({ ...h, outcome: "applied" }, 3);
    m.feedEventLag.observe(h, 0.4);
    m.feedEventsTotal.inc({ ...b, outcome: "stale" });
    m.feedEventLag.observe(b, 90);
    m.relistsTotal.inc({ ...h, kind: "targeted", result: "ok" });
    m.relistsTotal.inc({ ...b, kind: "full", result: "ok" });
    m.cacheDriftTotal.inc({ ...b, kind: "full" }, 4);
  };
  tick();
  const timer = setInterval(tick, tickMs);
  return {
    stopGoneLeader: () => m.leader.remove({ pool: POOLS.gone }),
    stop: () => clearInterval(timer),
  };
}

/** Serves a registry's exposition on GET /metrics, on a loopback port. */
export async function serveMetrics(m: Metrics, port: number): Promise<Server> {
  const server = createServer((req, res) => {
    if (req.url !== "/metrics") {
      res.writeHead(404).end();
      return;
    }
    m.registry
      .metrics()
      .then((body) => res.writeHead(200, { "content-type": m.registry.contentType }).end(body))
      .catch((e: unknown) => res.writeHead(500).end(String(e)));
  });
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  return server;
}
