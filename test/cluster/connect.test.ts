import { Cluster, Redis } from "ioredis";
import { describe, expect, it } from "vitest";
import {
  checkRedisUrl,
  createRedis,
  parseRedisUrl,
  redactSecrets,
  redactUrl,
  withCredentials,
} from "../../pkg/redis/index.js";
import { checkRedisUrl as ctlCheck } from "../../pkg/ctl/index.js";

describe("the connection factory's Redis Cluster URLs", () => {
  it("parses redis+cluster:// seeds, credentials and TLS", () => {
    expect(parseRedisUrl("redis+cluster://10.0.0.1:7000,10.0.0.2:7001,[::1]:7002")).toEqual({
      kind: "cluster",
      tls: false,
      seeds: [
        { host: "10.0.0.1", port: 7000 },
        { host: "10.0.0.2", port: 7001 },
        { host: "::1", port: 7002 },
      ],
    });
    expect(
      parseRedisUrl("rediss+cluster://warmpool-gateway:p%40ss@clustercfg.x.cache.amazonaws.com"),
    ).toEqual({
      kind: "cluster",
      tls: true,
      seeds: [{ host: "clustercfg.x.cache.amazonaws.com", port: 6379 }],
      username: "warmpool-gateway",
      password: "p@ss",
    });
    expect(parseRedisUrl("redis://127.0.0.1:6379").kind).toBe("single");
  });

  it("refuses a bad seed, a database, no seed, naming the field and never the password", () => {
    expect(() => checkRedisUrl("redis+cluster://u:secret@h1:99999", "--redis-url")).toThrow(
      /--redis-url: seed "h1:99999" is not host\[:port\] \(port 1-65535\)/,
    );
    expect(() => checkRedisUrl("redis+cluster://h1:7000/3", "--redis-url")).toThrow(
      /--redis-url: a Redis Cluster has database 0 only/,
    );
    expect(() => checkRedisUrl("redis+cluster://u:secret@", "--redis-url")).toThrow(/names no seed node/);
    expect(() => ctlCheck("http://x")).toThrow(
      /--redis-url: scheme must be redis:\/\/, rediss:\/\/ \(TLS\), redis\+cluster:\/\//,
    );
    try {
      checkRedisUrl("redis+cluster://u:secret@h1:x", "--redis-url");
    } catch (e) {
      expect((e as Error).message).not.toContain("secret");
    }
  });

  it("redacts and re-credentials a cluster URL", () => {
    expect(redactSecrets("cannot reach redis+cluster://u:secret@h1:1,h2:2 now")).toBe(
      "cannot reach redis+cluster://u:***@h1:1,h2:2 now",
    );
    expect(redactUrl("rediss+cluster://u:secret@h1:1")).not.toContain("secret");
    expect(withCredentials("redis+cluster://h1:1,h2:2", "warmpool-bridge", "p w")).toBe(
      "redis+cluster://warmpool-bridge:p%20w@h1:1,h2:2",
    );
  });

  it("gives an ioredis Cluster for a cluster URL and a Redis otherwise", () => {
    const c = createRedis("redis+cluster://127.0.0.1:7000,127.0.0.1:7001", { lazyConnect: true });
    const r = createRedis("redis://127.0.0.1:6379", { lazyConnect: true });
    try {
      expect(c).toBeInstanceOf(Cluster);
      expect(r).toBeInstanceOf(Redis);
      const opts = (c as unknown as Cluster).options;
      expect(opts.scaleReads).toBe("master");
    } finally {
      c.disconnect();
      r.disconnect();
    }
  });
});
