/**
 * A loopback TCP proxy with a switchable target. Stands for the stable address clients use in
 * front of a Redis primary (a virtual IP, a cloud endpoint that follows failovers): the pool's
 * processes know one URL, the proxy follows what Sentinel says. `blackhole()` drops what targets
 * send, which is how a test makes replication lose the last writes on purpose.
 */
import { connect, createServer, type Server, type Socket } from "node:net";

export interface TcpProxy {
  port: number;
  url: string;
  target: number;
  /** Points new connections at `port` and drops the open ones. */
  retarget(port: number): void;
  /** From now on, drops every byte targets send to clients (requests still reach the target). */
  blackhole(): void;
  /** Drops every open connection. */
  dropAll(): void;
  close(): Promise<void>;
}

export async function startTcpProxy(target: number): Promise<TcpProxy> {
  const pairs = new Set<[Socket, Socket]>();
  let held = false;
  const server: Server = createServer((client) => {
    const upstream = connect(proxy.target, "127.0.0.1");
    const pair: [Socket, Socket] = [client, upstream];
    pairs.add(pair);
    client.pipe(upstream);
    upstream.on("data", (d: Buffer) => {
      if (!held) client.write(d);
    });
    const end = (): void => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on("error", end).on("close", end);
    upstream.on("error", end).on("close", end);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const addr = server.address();
  const port = typeof addr === "object" && addr ? addr.port : 0;
  const proxy: TcpProxy = {
    port,
    url: `redis://127.0.0.1:${port}`,
    target,
    retarget(p) {
      proxy.target = p;
      proxy.dropAll();
    },
    blackhole() {
      held = true;
    },
    dropAll() {
      for (const [c, u] of pairs) {
        c.destroy();
        u.destroy();
      }
      pairs.clear();
    },
    async close() {
      proxy.dropAll();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
  return proxy;
}
