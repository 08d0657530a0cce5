import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startPrivateRedis, type PrivateRedis } from "./index.js";

describe("private redis-server harness", () => {
  let redis: PrivateRedis;
  beforeAll(async () => {
    redis = await startPrivateRedis();
  });
  afterAll(async () => {
    await redis?.stop();
  });

  it("runs on its own port, not the machine's shared 6379", async () => {
    expect(redis.port).not.toBe(6379);
    const c = new Redis(redis.url, { lazyConnect: true });
    await c.connect();
    expect(await c.ping()).toBe("PONG");
    const cfg = (await c.config("GET", "save")) as string[];
    expect(cfg[1]).toBe("");
    c.disconnect();
  });

  it("stop() leaves no process behind", async () => {
    const r = await startPrivateRedis();
    const pid = r.pid;
    await r.stop();
    expect(() => process.kill(pid, 0)).toThrow();
  });
});
