/**
 * The gateway remembers the bearer token a keep-alive connection last proved (to skip re-hashing
 * it per claim): on one connection, a request with a wrong token after an accepted one must still
 * be refused, and a good one after a refusal accepted — counted from the answers and from Redis.
 */
import { Agent, request } from "node:http";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ClaimKeys } from "../../pkg/claims/index.js";
import { runGateway } from "../../pkg/gateway/index.js";
import { startPrivateRedis, uniquePool, type PrivateRedis } from "../harness/index.js";
import { registerWarm, startReadyResponder, type ReadyResponder } from "../claims/stand-in.js";

const TOKEN = "conn-token-0123456789abcdef";
const OTHER = "conn-token-0123456789abcdeX";

describe("bearer token on a keep-alive connection", () => {
  let server: PrivateRedis;
  let redis: Redis;
  let gw: Awaited<ReturnType<typeof runGateway>>;
  let responder: ReadyResponder;
  let pool: string;

  beforeAll(async () => {
    server = await startPrivateRedis();
    redis = new Redis(server.url);
    pool = uniquePool("auth");
    gw = await runGateway({
      pool,
      redisUrl: server.url,
      host: "127.0.0.1",
      port: 0,
      tokens: TOKEN,
      defaultLeaseSeconds: 60,
      defaultWaitMs: 0,
      maxWaitMs: 60_000,
      readyTimeoutMs: 10_000,
      retryAfterSeconds: 1,
    });
    responder = await startReadyResponder(redis, new Redis(server.url), pool);
    await registerWarm(redis, pool, 10);
  });
  afterAll(async () => {
    await responder?.stop();
    await gw?.close();
    redis?.disconnect();
    await server?.stop();
  });

  it("one connection: accepted, then a wrong token refused, a missing one refused, the right one accepted again", async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const url = new URL(gw.url);
    const sockets = new Set<unknown>();
    const post = (auth: string | undefined): Promise<number> =>
      new Promise((resolve, reject) => {
        const body = JSON.stringify({ userId: "u1" });
        const req = request(
          {
            host: url.hostname,
            port: Number(url.port),
            method: "POST",
            path: "/v1/claims",
            agent,
            headers: {
              ...(auth === undefined ? {} : { authorization: auth }),
              "content-type": "application/json",
              "content-length": String(Buffer.byteLength(body)),
            },
          },
          (res) => {
            sockets.add(res.socket);
            res.resume();
            res.once("end", () => resolve(res.statusCode ?? 0));
          },
        );
        req.once("error", reject);
        req.end(body);
      });
    const statuses = [
      await post(`Bearer ${TOKEN}`),
      await post(`Bearer ${OTHER}`),
      await post(undefined),
      await post(`Bearer ${TOKEN}`),
      await post(`bearer ${TOKEN}`),
    ];
    agent.destroy();
    expect(sockets.size).toBe(1); // all on one connection
    expect(statuses).toEqual([201, 401, 401, 201, 401]);
    // Ground truth: exactly the two accepted requests made claims.
    expect(await redis.zcard(new ClaimKeys(pool).claims)).toBe(2);
  });
});
