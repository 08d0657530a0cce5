import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { Cluster, Redis } from "ioredis";
import { freeClusterPort, startPrivateRedis, type PrivateRedis } from "./private-redis.js";

const run = promisify(execFile);

/** A throwaway Redis Cluster of `masters` redis-servers (and their replicas) on free loopback ports. */
export interface PrivateCluster {
  readonly nodes: PrivateRedis[];
  /** Seed URLs, one per node. */
  readonly urls: string[];
  /** The cluster as every process is given it: `redis+cluster://127.0.0.1:p1,127.0.0.1:p2,…`. */
  readonly url: string;
  /** A cluster client (ioredis `Cluster`) over every node. */
  client(): Cluster;
  /** The node (port) that serves `slot` now, as that node's own CLUSTER SHARDS/SLOTS says. */
  ownerOf(slot: number): Promise<number>;
  /** The hash slot of a key (CLUSTER KEYSLOT). */
  slotOf(key: string): Promise<number>;
  /**
   * Moves `slot` to the master on `toPort` as `redis-cli --cluster reshard` does: IMPORTING on the
   * target, MIGRATING on the source, MIGRATE of its keys `batch` at a time (with `pauseMs` between
   * batches, so clients meet the slot half moved: ASK and TRYAGAIN), then SETSLOT NODE everywhere.
   * Returns the keys moved.
   */
  migrateSlot(slot: number, toPort: number, o?: { batch?: number; pauseMs?: number }): Promise<number>;
  /** CLUSTER FAILOVER on a replica of the master serving `slot`; resolves once it serves the slot. */
  failover(slot: number): Promise<{ from: number; to: number }>;
  stop(): Promise<void>;
}

/**
 * Starts `masters` cluster-enabled redis-servers (each with `replicas` replicas) and joins them with
 * `redis-cli --cluster create` (slots split evenly), then waits until every node says
 * `cluster_state:ok` (and every replica is in sync). As ElastiCache in cluster mode: keys of one
 * pool share a hash tag, so a pool lives on one shard.
 */
export async function startPrivateCluster(
  masters = 3,
  o: { replicas?: number } = {},
): Promise<PrivateCluster> {
  const replicas = o.replicas ?? 0;
  const nodes: PrivateRedis[] = [];
  try {
    for (let i = 0; i < masters * (1 + replicas); i++) {
      const port = await freeClusterPort();
      nodes.push(
        await startPrivateRedis({
          port,
          extraArgs: [
            "--cluster-enabled",
            "yes",
            "--cluster-node-timeout",
            "2000",
            "--cluster-config-file",
            `nodes-${port}.conf`,
          ],
        }),
      );
    }
    const addrs = nodes.map((n) => `127.0.0.1:${n.port}`);
    await run(
      "redis-cli",
      ["--cluster", "create", ...addrs, "--cluster-replicas", String(replicas), "--cluster-yes"],
      { timeout: 30_000 },
    );
    const deadline = Date.now() + 30_000;
    for (const n of nodes) {
      const c = new Redis(n.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
      await c.connect();
      try {
        for (;;) {
          const info = (await c.call("CLUSTER", "INFO")) as string;
          const repl = (await c.info("replication")) as string;
          const synced = !/role:slave/.test(repl) || /master_link_status:up/.test(repl);
          if (/cluster_state:ok/.test(info) && synced) break;
          if (Date.now() > deadline)
            throw new Error(
              `node ${n.port}: cluster not ok: ${info.split("\n")[0]} ${synced ? "" : "(replica not in sync)"}`,
            );
          await new Promise((r) => setTimeout(r, 50));
        }
      } finally {
        c.disconnect();
      }
    }
  } catch (e) {
    await Promise.all(nodes.map((n) => n.stop()));
    throw new Error(
      "starting a local Redis Cluster (redis-server --cluster-enabled yes + redis-cli --cluster create)",
      {
        cause: e,
      },
    );
  }
  const clients: Cluster[] = [];
  const admin = new Map<number, Redis>();
  const node = (port: number): Redis => {
    let c = admin.get(port);
    if (!c) {
      c = new Redis(port, "127.0.0.1", { maxRetriesPerRequest: 1 });
      admin.set(port, c);
    }
    return c;
  };
  const ports = nodes.map((n) => n.port);
  const idOf = async (port: number): Promise<string> => (await node(port).call("CLUSTER", "MYID")) as string;
  const ownerOf = async (slot: number): Promise<number> => {
    for (const p of ports) {
      const slots = (await node(p).call("CLUSTER", "SLOTS")) as [number, number, [string, number, string]][];
      const owner = slots.find(([a, b]) => slot >= a && slot <= b)?.[2];
      if (owner && (await idOf(owner[1])) === owner[2]) return owner[1];
    }
    throw new Error(`no node serves slot ${slot}`);
  };
  return {
    nodes,
    urls: nodes.map((n) => n.url),
    url: `redis+cluster://${ports.map((p) => `127.0.0.1:${p}`).join(",")}`,
    client() {
      const c = new Cluster(
        nodes.map((n) => ({ host: "127.0.0.1", port: n.port })),
        { enableReadyCheck: true, scaleReads: "master" },
      );
      clients.push(c);
      return c;
    },
    ownerOf,
    async slotOf(key) {
      return (await node(ports[0]!).call("CLUSTER", "KEYSLOT", key)) as number;
    },
    async migrateSlot(slot, toPort, mo = {}) {
      const from = await ownerOf(slot);
      if (from === toPort) return 0;
      const [fromId, toId] = [await idOf(from), await idOf(toPort)];
      await node(toPort).call("CLUSTER", "SETSLOT", slot, "IMPORTING", fromId);
      await node(from).call("CLUSTER", "SETSLOT", slot, "MIGRATING", toId);
      let moved = 0;
      for (;;) {
        const keys = (await node(from).call("CLUSTER", "GETKEYSINSLOT", slot, mo.batch ?? 10)) as string[];
        if (keys.length === 0) break;
        await node(from).call("MIGRATE", "127.0.0.1", toPort, "", 0, 5000, "REPLACE", "KEYS", ...keys);
        moved += keys.length;
        if (mo.pauseMs) await new Promise((r) => setTimeout(r, mo.pauseMs));
      }
      // The target first (it then owns the slot), then the source, then everyone else.
      await node(toPort).call("CLUSTER", "SETSLOT", slot, "NODE", toId);
      await node(from).call("CLUSTER", "SETSLOT", slot, "NODE", toId);
      for (const p of ports) {
        if (p === toPort || p === from) continue;
        const role = (await node(p).call("ROLE")) as [string];
        if (role[0] === "master") await node(p).call("CLUSTER", "SETSLOT", slot, "NODE", toId);
      }
      return moved;
    },
    async failover(slot) {
      const from = await ownerOf(slot);
      const fromId = await idOf(from);
      let to: number | undefined;
      for (const p of ports) {
        const role = (await node(p).call("ROLE")) as [string, string, number];
        if (role[0] === "slave" && role[2] === from) to = p;
      }
      if (to === undefined) throw new Error(`the master on ${from} has no replica (start with replicas)`);
      // A manual failover needs the replica in sync (a just-demoted master resyncs first); one that
      // did not complete (its master did not answer in time) is asked for again.
      const deadline = Date.now() + 30_000;
      let askedAt = 0;
      for (;;) {
        const repl = (await node(to).info("replication")) as string;
        const role = (await node(to).call("ROLE")) as [string];
        const nodesLine = ((await node(to).call("CLUSTER", "NODES")) as string)
          .split("\n")
          .find((l) => l.startsWith(fromId));
        if (role[0] === "master" && nodesLine?.includes("slave")) break;
        if (role[0] === "slave" && /master_link_status:up/.test(repl) && Date.now() - askedAt > 5_000) {
          await node(to).call("CLUSTER", "FAILOVER");
          askedAt = Date.now();
        }
        if (Date.now() > deadline) throw new Error(`failover of slot ${slot} to ${to} did not complete`);
        await new Promise((r) => setTimeout(r, 50));
      }
      return { from, to };
    },
    async stop() {
      for (const c of clients) c.disconnect();
      for (const c of admin.values()) c.disconnect();
      await Promise.all(nodes.map((n) => n.stop()));
    },
  };
}
