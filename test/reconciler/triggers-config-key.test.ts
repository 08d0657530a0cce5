import { PassThrough } from "node:stream";
import { Redis } from "ioredis";
import { afterEach, describe, expect, it } from "vitest";
import { PoolKeys } from "../../pkg/keys/index.js";
import { createLogger } from "../../pkg/log/index.js";
import { PassTrigger } from "../../pkg/reconciler/triggers.js";
import { createRedis } from "../../pkg/redis/index.js";
import { startPrivateRedis, uniquePool, type PrivateRedis } from "../harness/index.js";

/**
 * Keyspace notifications of the config key (docs/reconciler.md, "Triggers"): what the trigger
 * says when it cannot check or enable them. Under the reconciler's ACL user CONFIG is refused, so
 * it cannot tell whether they are on: it says which setting the server needs and subscribes
 * anyway — with the setting present (as the private redis-server has it) a plain SET still wakes a
 * pass; with it removed the SET waits for the resync, as the line says. The older line claimed it
 * could not enable notifications that were in fact on.
 */
describe("config key notifications: what the trigger says (real Redis)", () => {
  let server: PrivateRedis | undefined;
  const conns: Redis[] = [];
  let trigger: PassTrigger | undefined;
  afterEach(async () => {
    await trigger?.stop();
    trigger = undefined;
    for (const c of conns.splice(0)) c.disconnect();
    await server?.stop();
    server = undefined;
  });

  async function start(acl: boolean): Promise<{ lines: () => string[]; admin: Redis; keys: PoolKeys }> {
    const pool = uniquePool("trg");
    server = await startPrivateRedis(acl ? { acl: { pool } } : {});
    const url = acl ? server.urlFor("reconciler") : server.url;
    const conn = (use: "commands" | "blocking"): Redis => {
      const c = createRedis(url, { use, offlineQueue: true });
      c.on("error", () => undefined);
      conns.push(c);
      return c;
    };
    const admin = new Redis(server.url);
    conns.push(admin);
    const out = new PassThrough();
    let text = "";
    out.on("data", (d: Buffer) => (text += d.toString()));
    const keys = new PoolKeys(pool);
    trigger = new PassTrigger({
      blocking: conn("blocking"),
      subscriber: conn("blocking"),
      keys,
      log: createLogger({ level: "info", destination: out }),
    });
    await trigger.start();
    return { lines: () => text.split("\n").filter(Boolean), admin, keys };
  }

  it("under the reconciler's ACL user: names the setting, subscribes anyway, a plain SET wakes it", async () => {
    const { lines, admin, keys } = await start(true);
    const said = lines().map((l) => (JSON.parse(l) as { msg: string }).msg);
    expect(said.some((m) => m.startsWith("cannot read notify-keyspace-events (CONFIG GET refused"))).toBe(
      true,
    );
    expect(said.some((m) => m.includes("K, $ and g"))).toBe(true);
    expect(said.some((m) => m.startsWith("cannot enable keyspace notifications"))).toBe(false);
    await admin.set(keys.config, "{}");
    expect(await trigger!.wait(10_000)).toBe("event");
    // Without the setting on the server, as the line warns, a plain SET waits for the resync.
    await admin.config("SET", "notify-keyspace-events", "");
    await admin.set(keys.config, "{}");
    expect(await trigger!.wait(1_000)).toBe("resync");
  });

  it("where CONFIG is allowed: adds K$g itself and says nothing", async () => {
    const { lines, admin, keys } = await start(false);
    await admin.config("SET", "notify-keyspace-events", "");
    await trigger!.stop();
    const out = new PassThrough();
    let text = "";
    out.on("data", (d: Buffer) => (text += d.toString()));
    const c = (): Redis => {
      const r = createRedis(server!.url, { use: "blocking", offlineQueue: true });
      conns.push(r);
      return r;
    };
    trigger = new PassTrigger({
      blocking: c(),
      subscriber: c(),
      keys,
      log: createLogger({ level: "info", destination: out }),
    });
    await trigger.start();
    expect(lines()).toEqual([]);
    expect(text).toBe("");
    const [, flags] = (await admin.config("GET", "notify-keyspace-events")) as [string, string];
    for (const ch of "K$g") expect(flags).toContain(ch);
    await admin.set(keys.config, "{}");
    expect(await trigger.wait(10_000)).toBe("event");
  });
});
