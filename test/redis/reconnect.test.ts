import { Redis } from "ioredis";
import { afterEach, describe, expect, it } from "vitest";
import { redisOptions } from "../../pkg/redis/index.js";
import { startTcpProxy, type TcpProxy } from "../chaos/tcp-proxy.js";
import { startPrivateRedis, waitFor, type PrivateRedis } from "../harness/index.js";

/**
 * A connection through a stable address (a proxy following the primary) whose primary dies: while
 * the address leads nowhere every dial is accepted and cut at once, and once it leads to the new
 * primary the connection must work again. (With CLIENT SETNAME on connect and the ready check off,
 * ioredis used to stay "ready" but unwritable for good after such a cut dial.)
 */
describe("reconnect through a stable address after the primary dies", () => {
  const cleanup: (() => Promise<unknown> | unknown)[] = [];
  afterEach(async () => {
    for (const f of cleanup.reverse()) await f();
    cleanup.length = 0;
  });

  for (const use of ["commands", "blocking"] as const) {
    it(`a "${use}" connection works again once the address reaches the new primary`, async () => {
      const old: PrivateRedis = await startPrivateRedis();
      const next: PrivateRedis = await startPrivateRedis();
      cleanup.push(
        () => next.stop(),
        () => old.stop(),
      );
      const front: TcpProxy = await startTcpProxy(old.port);
      cleanup.push(() => front.close());
      const r = new Redis(front.url, redisOptions({ use, lazyConnect: true, connectTimeoutMs: 2_000 }));
      r.on("error", () => undefined);
      cleanup.push(() => r.disconnect());
      await r.connect();
      expect(await r.set("k", "old")).toBe("OK");
      await old.kill();
      await new Promise((res) => setTimeout(res, 1_000));
      front.retarget(next.port);
      await waitFor(
        "a write on the new primary",
        async () => (await r.set("k", "new").catch(() => null)) === "OK",
        10_000,
        100,
      );
      const direct = new Redis(next.url);
      cleanup.push(() => direct.disconnect());
      expect(await direct.get("k")).toBe("new");
    });
  }
});
