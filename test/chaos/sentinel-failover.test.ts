/**
 * Scenario 2b: a primary failover with redis-sentinel that loses the last writes. A primary, a
 * replica fed through a proxy the test can black-hole, one Sentinel, and a client proxy that
 * follows Sentinel (the stable address the pool's processes use). A real gateway process and a
 * real bridge process ride the failover. Replication is cut, alice claims the one warm task (the
 * claim exists only on the primary), the primary dies, Sentinel promotes the replica: there the
 * task is warm again. Bob's claim takes it in Redis — and the bridge, already serving alice,
 * refuses the second init_user, so bob is answered a clear 503 and never gets alice's task.
 * Needs `redis-sentinel` (Debian package) on PATH; skipped with the reason otherwise.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import WebSocket from "ws";
import { afterAll, describe, expect, it } from "vitest";
import { ClaimKeys } from "../../pkg/claims/index.js";
import { spawnBridge, type BridgeProcess } from "../bridge/spawn-bridge.js";
import { freePort, startPrivateRedis, uniquePool, waitFor, type PrivateRedis } from "../harness/index.js";
import { clearError } from "./driver.js";
import { GATEWAY_TOKEN, spawnGateway, type GatewayChild } from "./env.js";
import { figures, sleep } from "./mode.js";
import { startTcpProxy, type TcpProxy } from "./tcp-proxy.js";

const HAVE_SENTINEL = spawnSync("redis-sentinel", ["--version"]).status === 0;
const MASTER = "wpchaos";

async function claim(
  gw: GatewayChild,
  userId: string,
): Promise<{ status: number; json: Record<string, unknown> }> {
  const r = await fetch(`${gw.url}/v1/claims`, {
    method: "POST",
    headers: { authorization: `Bearer ${GATEWAY_TOKEN}`, "content-type": "application/json" },
    body: JSON.stringify({ userId, waitMs: 0 }),
  });
  const text = await r.text();
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    json = { raw: text };
  }
  return { status: r.status, json };
}

/** Opens alice's session and resolves with what the agent echoed of `line`. */
function echo(endpoint: string, token: string, line: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://${endpoint}/?token=${encodeURIComponent(token)}`);
    let buf = "";
    const timer = setTimeout(() => reject(new Error(`no echo of ${line}: ${buf}`)), 10_000);
    ws.on("message", (d: Buffer) => {
      buf += d.toString();
      if (buf.includes(line)) {
        clearTimeout(timer);
        resolve(buf);
      }
    });
    ws.once("open", () => ws.send(`${line}\n`));
    ws.once("error", reject);
  });
}

describe.skipIf(!HAVE_SENTINEL)(
  "chaos: Sentinel failover that loses the last writes",
  { timeout: 120_000 },
  () => {
    const cleanup: (() => Promise<unknown> | unknown)[] = [];
    afterAll(async () => {
      for (const f of cleanup.reverse()) await f();
    });

    it("the lost claim's task is claimed again in Redis, the bridge refuses the second init_user, bob gets a clear 503", async () => {
      const pool = uniquePool("fo");
      const keys = new ClaimKeys(pool);
      const dir = mkdtempSync(join(tmpdir(), "wp-sentinel-"));
      cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
      const primary: PrivateRedis = await startPrivateRedis();
      cleanup.push(() => primary.stop());
      const feed: TcpProxy = await startTcpProxy(primary.port);
      cleanup.push(() => feed.close());
      const replica: PrivateRedis = await startPrivateRedis({
        extraArgs: ["--replicaof", "127.0.0.1", String(feed.port)],
      });
      cleanup.push(() => replica.stop());
      const sentinelPort = await freePort();
      const conf = join(dir, "sentinel.conf");
      writeFileSync(
        conf,
        [
          `port ${sentinelPort}`,
          "bind 127.0.0.1",
          `dir ${dir}`,
          // Sentinel sees the primary through the feed too, so the cut is a partition of the
          // primary from replica and Sentinel (clients still reach it): the classic lost-write case.
          // (Watching the primary directly, Sentinel would repoint the replica at it, past the feed.)
          `sentinel monitor ${MASTER} 127.0.0.1 ${feed.port} 1`,
          `sentinel down-after-milliseconds ${MASTER} 1000`,
          `sentinel failover-timeout ${MASTER} 5000`,
          "",
        ].join("\n"),
      );
      const sentinel: ChildProcess = spawn("redis-sentinel", [conf], { stdio: "ignore" });
      cleanup.push(() => sentinel.kill("SIGKILL"));
      const s = new Redis(sentinelPort, "127.0.0.1", { maxRetriesPerRequest: 1 });
      s.on("error", () => undefined);
      cleanup.push(() => s.disconnect());
      await waitFor(
        "sentinel to see the replica",
        async () => ((await s.call("SENTINEL", "replicas", MASTER)) as unknown[]).length === 1,
        20_000,
        100,
      );
      // The stable address: follows Sentinel's answer for the primary.
      const front = await startTcpProxy(primary.port);
      const masterPorts = new Set([primary.port, feed.port]);
      cleanup.push(() => front.close());
      const follow = setInterval(() => {
        void (s.call("SENTINEL", "get-master-addr-by-name", MASTER) as Promise<[string, string]>)
          .then((a) => {
            // The feed's port stands for the primary; anything else is a promoted replica.
            const p = Number(a[1]);
            if (!masterPorts.has(p) && p !== front.target) front.retarget(p);
          })
          .catch(() => undefined);
      }, 100);
      cleanup.push(() => clearInterval(follow));

      const onPrimary = new Redis(primary.url, { maxRetriesPerRequest: 1 });
      const onReplica = new Redis(replica.url, { maxRetriesPerRequest: 1 });
      for (const c of [onPrimary, onReplica]) c.on("error", () => undefined);
      cleanup.push(
        () => onPrimary.disconnect(),
        () => onReplica.disconnect(),
      );
      const gw = await spawnGateway(front.url, pool);
      cleanup.push(async () => {
        gw.child.kill("SIGKILL");
        await gw.exited;
      });
      const root = mkdtempSync(join(tmpdir(), "wp-fo-ws-"));
      cleanup.push(() => rmSync(root, { recursive: true, force: true }));
      const bridge: BridgeProcess = spawnBridge({
        pool,
        redisUrl: front.url,
        root,
        agent: JSON.stringify(["sh", "-c", "exec cat"]),
      });
      cleanup.push(async () => {
        if (bridge.child.exitCode === null) bridge.child.kill("SIGKILL");
        await bridge.exited;
      });
      const t = bridge.taskId;
      await waitFor(
        "task warm on the replica too",
        async () => (await onReplica.hget(keys.task(t), "state")) === "warm",
        20_000,
      );

      // Replication is cut: from here on the replica misses every write.
      feed.blackhole();
      const alice = await claim(gw, "alice");
      expect(alice.status).toBe(201);
      expect(alice.json.taskId).toBe(t);
      expect(await echo(String(alice.json.endpoint), String(alice.json.token), "hello-alice")).toContain(
        "hello-alice",
      );

      // The primary dies; until Sentinel promotes the replica the gateway answers 503 with a reason.
      const killedAt = Date.now();
      await primary.kill();
      feed.dropAll();
      // Every claim answer after the cut: none may hand out alice's task again.
      const answers: { userId: string; status: number; json: Record<string, unknown> }[] = [];
      let probes = 0;
      let clear503 = 0;
      while (front.target === primary.port && Date.now() - killedAt < 30_000) {
        const r = await claim(gw, `probe-${probes}`);
        answers.push({ userId: `probe-${probes}`, ...r });
        probes++;
        if (r.status === 503 && clearError(r.status, JSON.stringify(r.json))) clear503++;
        await sleep(200);
      }
      expect(front.target).toBe(replica.port);
      const promotedMs = Date.now() - killedAt;
      await waitFor(
        "gateway ready on the new primary",
        async () => (await fetch(`${gw.url}/readyz`)).ok,
        20_000,
        100,
      );

      // The last writes are gone: on the new primary alice's claim never happened.
      const aliceOnNew = await onReplica.exists(keys.claim(String(alice.json.claimId)));
      const warmAgain = (await onReplica.hget(keys.task(t), "state")) === "warm";
      // Bob's claim takes the task in Redis (unless a probe racing the switch already did); the
      // bridge is serving alice and refuses init_user.
      const bob = await claim(gw, "bob");
      answers.push({ userId: "bob", ...bob });
      const second = await onReplica.hgetall(keys.task(t));
      const secondClaim = second.claimId ? await onReplica.hgetall(keys.claim(second.claimId)) : {};
      const servedAgain = answers.filter((a) => a.status === 201 && a.json.taskId === t);
      figures("sentinel-failover", {
        probesWhileNoPrimary: probes,
        clear503,
        promotedMs,
        lostWrite: aliceOnNew === 0,
        warmAgainAfterFailover: warmAgain,
        secondClaimant: secondClaim.userId ?? "none",
        secondClaimState: secondClaim.state ?? "none",
        answers: answers.map((a) => a.status),
        epochOnNewPrimary: await onReplica.get(keys.epoch),
        violations: servedAgain.length,
      });
      expect(aliceOnNew).toBe(0);
      // In Redis the lost claim's task went to a second user…
      expect(second.claimId).toBeDefined();
      expect(second.claimId).not.toBe(alice.json.claimId);
      expect(secondClaim.taskId).toBe(t);
      // …who was never served it: the bridge refused the second init_user, the claim never became
      // ready, and every answer was a clear refusal.
      expect(servedAgain).toEqual([]);
      expect(secondClaim.readyAt).toBeUndefined();
      for (const a of answers) expect(clearError(a.status, JSON.stringify(a.json))).toBe(true);
      // The refused task is not handed out again: it drains. (The second claim's timeout sends a
      // release naming that claim; the bridge ignores a release of a claim it does not serve, but
      // the task drains and is stopped: alice's claim is gone from the new primary, her heartbeats
      // would be 404s anyway.)
      await waitFor(
        "the task leaves the pool",
        async () => (await onReplica.hget(keys.task(t), "state")) === "draining",
        15_000,
      );
      expect(await onReplica.zscore(keys.warm, t)).toBeNull();
    });
  },
);
