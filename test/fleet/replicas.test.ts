import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Emulator } from "../../hack/emulator/index.js";
import { PoolKeys } from "../../pkg/keys/index.js";
import { PoolRegistry } from "../../pkg/pools/index.js";
import { cliEntry, packageRoot } from "../../pkg/util/index.js";
import { figures, sleep } from "../chaos/mode.js";
import { registerRunningTasks } from "./bridge-stand-in.js";
import { FAMILY, startTestEmulator } from "../ecs/env.js";
import { startPrivateRedis, waitFor, type PrivateRedis } from "../harness/index.js";

const POOLS = Array.from({ length: 30 }, (_, i) => `rep-${String(i).padStart(2, "0")}`);
const TARGET = 1;
const LEASE_TTL_MS = 2_000;
const FLEET_TTL_MS = 2_000;

/**
 * Three `warmpool reconciler --all-pools` processes (the built CLI) share 30 registered pools
 * against the emulator: they split them evenly by the pools' leases, every pool reaches its exact
 * target, and after kill -9 of one its pools are led by the survivors within the TTLs with the
 * task counts exact (emulator ground truth per startedBy: nothing lost, nothing launched twice).
 * Epoch fencing is read from Redis throughout: one holder per pool and term, one new term per
 * moved pool and none for the others.
 */
describe("reconciler replicas with --all-pools (built CLI, real Redis, emulator over HTTP)", () => {
  let server: PrivateRedis;
  let redis: Redis;
  let emu: Emulator;
  let stopBridges = (): void => undefined;
  const procs: ChildProcess[] = [];

  const live = (pool: string): number =>
    emu.control.tasks().filter((t) => t.startedBy === pool && t.desiredStatus === "RUNNING").length;
  /** Pool → pid of the reconciler holding its lease (holder ids are host:pid:…). */
  const leaders = async (): Promise<Map<string, number | undefined>> => {
    const out = new Map<string, number | undefined>();
    for (const p of POOLS) {
      const id = await redis.get(new PoolKeys(p).leader);
      out.set(p, id ? Number(id.split(":")[1]) : undefined);
    }
    return out;
  };
  /** Pool → its epoch (the lease's fencing token) in Redis. */
  const epochs = async (): Promise<Map<string, number>> => {
    const out = new Map<string, number>();
    for (const p of POOLS) out.set(p, Number((await redis.get(new PoolKeys(p).epoch)) ?? 0));
    return out;
  };
  /**
   * Samples every pool's (holder, epoch) pair in one MGET each, every 50 ms: the epoch → holder
   * pairs seen. One epoch held by two holders would be two acting leaders in one term.
   */
  const termsSeen = new Map<string, Map<number, Set<string>>>();
  let sampling = false;
  const sample = async (): Promise<void> => {
    while (sampling) {
      for (const p of POOLS) {
        const k = new PoolKeys(p);
        const [holder, epoch] = await redis.mget(k.leader, k.epoch).catch(() => [null, null]);
        if (!holder || !epoch) continue;
        const terms = termsSeen.get(p) ?? new Map<number, Set<string>>();
        termsSeen.set(p, terms);
        terms.set(Number(epoch), (terms.get(Number(epoch)) ?? new Set()).add(holder));
      }
      await sleep(50);
    }
  };
  const countBy = (m: Map<string, number | undefined>): Record<string, number> => {
    const c: Record<string, number> = {};
    for (const v of m.values()) c[String(v ?? "none")] = (c[String(v ?? "none")] ?? 0) + 1;
    return c;
  };

  beforeAll(async () => {
    if (!existsSync(join(packageRoot(), "dist", "cmd", "warmpool.js")))
      throw new Error("dist/ is missing: run `npx tsc -p .` first");
    server = await startPrivateRedis();
    redis = new Redis(server.url, { maxRetriesPerRequest: 1 });
    redis.on("error", () => undefined);
    ({ emu } = await startTestEmulator());
    const reg = new PoolRegistry(redis);
    for (const p of POOLS) {
      await reg.create(p, { who: "test" });
      await redis.set(
        new PoolKeys(p).config,
        JSON.stringify({ minWarm: TARGET, maxWarm: 5, replenishThreshold: TARGET }),
      );
    }
    stopBridges = registerRunningTasks(emu, redis);
  });
  afterAll(async () => {
    sampling = false;
    stopBridges();
    for (const c of procs) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
    await emu?.stop();
    redis?.disconnect();
    await server?.stop();
  });

  it("3 replicas split 30 pools 10/10/10; kill -9 of one → its pools led by the others within the TTLs, task counts exact", async () => {
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(process.env))
      if (v !== undefined && !k.startsWith("WARMPOOL_")) env[k] = v;
    for (let i = 0; i < 3; i++) {
      procs.push(
        spawn(
          process.execPath,
          [
            cliEntry(),
            "reconciler",
            "--all-pools",
            "--cluster=default",
            `--task-definition=${FAMILY}`,
            `--redis-url=${server.url}`,
            `--endpoint-url=${emu.endpoint}`,
            "--resync-interval=1s",
            `--lease-ttl=${LEASE_TTL_MS}ms`,
            `--fleet-ttl=${FLEET_TTL_MS}ms`,
            "--relist-interval=30s",
            "--in-doubt-grace=2s",
            "--metrics-port=0",
            "--log-level=error",
            "--budget-ecs-read=10",
            "--budget-ecs-write=10",
          ],
          { env, stdio: ["ignore", "ignore", "inherit"] },
        ),
      );
    }
    const pids = procs.map((c) => c.pid!);
    sampling = true;
    const sampler = sample();
    const split = await waitFor(
      "30 pools led, 10 per replica",
      async () => {
        const c = countBy(await leaders());
        return pids.every((p) => c[String(p)] === 10) ? c : false;
      },
      30_000,
      100,
    );
    await waitFor("every pool at its target", () => POOLS.every((p) => live(p) === TARGET), 30_000, 100);

    const before = await leaders();
    const epochsBefore = await epochs();
    const victim = pids[1]!;
    const moved = POOLS.filter((p) => before.get(p) === victim);
    procs[1]!.kill("SIGKILL");
    const killedAt = Date.now();
    const after = await waitFor(
      "the victim's pools led by the survivors, 15 each",
      async () => {
        const c = countBy(await leaders());
        return c[String(pids[0])] === 15 && c[String(pids[2])] === 15 ? c : false;
      },
      30_000,
      50,
    );
    const takeoverMs = Date.now() - killedAt;
    // The dead replica leaves wp:replicas within the fleet TTL and each lease expires within its
    // own; a round (a third of the TTL) and a lease attempt later the new owner leads.
    expect(takeoverMs).toBeLessThanOrEqual(FLEET_TTL_MS + LEASE_TTL_MS + 2_000);
    // Nothing lost, nothing launched twice: after a settle every pool holds exactly its target.
    await waitFor(
      "every pool at its target after the takeover",
      () => POOLS.every((p) => live(p) === TARGET),
      30_000,
      100,
    );
    await sleep(3_000);
    sampling = false;
    await sampler;
    // Epoch fencing, read from Redis: each pool's term (epoch) was only ever held by one holder
    // (one acting leader per term: every fenced write names its term), terms only went up, and
    // each of the victim's pools began a new term under a survivor.
    const epochsAfter = await epochs();
    const extraTerms: Record<string, string[]> = {};
    for (const p of POOLS) {
      const terms = termsSeen.get(p) ?? new Map<number, Set<string>>();
      for (const [epoch, holders] of terms)
        expect({ pool: p, epoch, holders: [...holders] }).toEqual({
          pool: p,
          epoch,
          holders: [[...holders][0]],
        });
      const moved = before.get(p) === victim;
      const newTerms = epochsAfter.get(p)! - epochsBefore.get(p)!;
      if (moved) expect({ pool: p, newTerms: newTerms >= 1 }).toEqual({ pool: p, newTerms: true });
      else expect(newTerms).toBeGreaterThanOrEqual(0);
      // A lease lost and taken again on a loaded machine is a new term too: reported, not an error.
      if (newTerms !== (moved ? 1 : 0))
        extraTerms[p] = [...terms.entries()]
          .filter(([e]) => e > epochsBefore.get(p)!)
          .map(([e, h]) => `${e}:${[...h].join("|").split(":")[1]}`);
      // The pool's status (written only by its leader) names the lease's holder and its epoch.
      const status = JSON.parse((await redis.get(new PoolKeys(p).status)) ?? "null") as {
        leader: { id: string; epoch: number };
      } | null;
      expect(status?.leader).toEqual({
        id: await redis.get(new PoolKeys(p).leader),
        epoch: epochsAfter.get(p),
      });
    }
    const counts = POOLS.map(live);
    expect(counts.every((n) => n === TARGET)).toBe(true);
    // No pool's task was launched twice: the survivors adopted the victim's tasks from Redis and ECS.
    expect(emu.control.launchedCount()).toBe(POOLS.length * TARGET);
    figures("replicas", {
      split,
      moved: moved.length,
      takeoverMs,
      after,
      launched: emu.control.launchedCount(),
      termsSampled: [...termsSeen.values()].reduce((n, t) => n + t.size, 0),
      extraTerms,
    });
  }, 120_000);
});
