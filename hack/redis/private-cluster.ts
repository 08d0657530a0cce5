import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { Cluster, Redis } from "ioredis";
import { freeClusterPort, startPrivateRedis, type PrivateRedis } from "./private-redis.js";

const run = promisify(execFile);

/** A throwaway Redis Cluster of `masters` redis-servers on free loopback ports (no replicas). */
export interface PrivateCluster {
  readonly nodes: PrivateRedis[];
  /** Seed URLs, one per node. */
  readonly urls: string[];
  /** A cluster client (ioredis `Cluster`) over every node. */
  client(): Cluster;
  stop(): Promise<void>;
}

/**
 * Starts `masters` cluster-enabled redis-servers and joins them with `redis-cli --cluster create`
 * (slots split evenly), then waits until every node says `cluster_state:ok`. As ElastiCache in
 * cluster mode: keys of one pool share a hash tag, so a pool lives on one shard.
 */
export async function startPrivateCluster(masters = 3): Promise<PrivateCluster> {
  const nodes: PrivateRedis[] = [];
  try {
    for (let i = 0; i < masters; i++) {
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
    await run("redis-cli", ["--cluster", "create", ...addrs, "--cluster-replicas", "0", "--cluster-yes"], {
      timeout: 30_000,
    });
    const deadline = Date.now() + 20_000;
    for (const n of nodes) {
      const c = new Redis(n.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
      await c.connect();
      try {
        for (;;) {
          const info = (await c.call("CLUSTER", "INFO")) as string;
          if (/cluster_state:ok/.test(info)) break;
          if (Date.now() > deadline)
            throw new Error(`node ${n.port}: cluster not ok: ${info.split("\n")[0]}`);
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
  return {
    nodes,
    urls: nodes.map((n) => n.url),
    client() {
      const c = new Cluster(
        nodes.map((n) => ({ host: "127.0.0.1", port: n.port })),
        { enableReadyCheck: true, scaleReads: "master" },
      );
      clients.push(c);
      return c;
    },
    async stop() {
      for (const c of clients) c.disconnect();
      await Promise.all(nodes.map((n) => n.stop()));
    },
  };
}
