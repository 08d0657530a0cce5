/**
 * Slow clients against the real gateway over raw TCP sockets: trickled headers and trickled
 * bodies are cut off, a silent socket is closed, while a claim that legitimately waits longer than
 * the request timeout is still answered and an idle keep-alive connection outlives the headers
 * timeout. Deadlines in these tests are generous upper bounds, never speed requirements.
 */
import { connect, type Socket } from "node:net";
import { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { gatewayCommand } from "../../cmd/gateway.js";
import yargs, { type Argv } from "yargs";
import { ClaimKeys } from "../../pkg/claims/index.js";
import {
  DEFAULT_KEEP_ALIVE_TIMEOUT_MS,
  resolveTimeouts,
  runGateway,
  type GatewayTimeouts,
} from "../../pkg/gateway/index.js";
import { startPrivateRedis, uniquePool, waitFor, type PrivateRedis } from "../harness/index.js";
import { evaluate } from "../deploy/fixtures.js";
import { registerWarm, startReadyResponder } from "../claims/stand-in.js";

const TOKEN = "timeout-token-0123456789abcdef";
let server: PrivateRedis;
let redis: Redis;
beforeAll(async () => {
  server = await startPrivateRedis();
  redis = new Redis(server.url);
});
afterAll(async () => {
  redis?.disconnect();
  await server?.stop();
});

const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const g of open.splice(0)) await g.close();
});

async function gateway(
  timeouts: Partial<GatewayTimeouts>,
  extra: { maxWaitMs?: number; readyTimeoutMs?: number } = {},
): Promise<{ url: string; port: number; pool: string }> {
  const pool = uniquePool("to");
  const gw = await runGateway({
    pool,
    redisUrl: server.url,
    host: "127.0.0.1",
    port: 0,
    tokens: TOKEN,
    defaultLeaseSeconds: 60,
    defaultWaitMs: 0,
    maxWaitMs: extra.maxWaitMs ?? 60_000,
    readyTimeoutMs: extra.readyTimeoutMs ?? 10_000,
    retryAfterSeconds: 1,
    timeouts,
  });
  open.push(gw);
  return { url: gw.url, port: Number(new URL(gw.url).port), pool };
}

interface RawConn {
  socket: Socket;
  /** Everything the server sent so far. */
  received(): string;
  /** Resolves when the server ends or resets the connection. */
  closed: Promise<void>;
  isClosed(): boolean;
}

function raw(port: number): Promise<RawConn> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1");
    let data = "";
    let done = false;
    socket.on("data", (d: Buffer) => (data += d.toString()));
    const closed = new Promise<void>((r) => {
      socket.once("close", () => {
        done = true;
        r();
      });
    });
    socket.on("error", () => undefined);
    socket.once("connect", () => resolve({ socket, received: () => data, closed, isClosed: () => done }));
    socket.once("error", reject);
  });
}

/** Writes one byte every `everyMs` until the socket closes or `maxBytes` were sent. */
function trickle(c: RawConn, text: string, everyMs: number): () => void {
  let i = 0;
  const t = setInterval(() => {
    if (c.isClosed() || i >= text.length) return clearInterval(t);
    c.socket.write(text[i++]!);
  }, everyMs);
  return () => clearInterval(t);
}

/** True when `p` settles within `ms`. */
async function within(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const r = await Promise.race([
    p.then(() => true),
    new Promise<boolean>((res) => (timer = setTimeout(() => res(false), ms))),
  ]);
  clearTimeout(timer);
  return r;
}

describe("gateway timeouts against slow clients (real sockets)", () => {
  it("a client trickling its headers is answered 408 and cut off by the headers timeout", async () => {
    const g = await gateway({ headersTimeoutMs: 500, requestTimeoutMs: 1_000 });
    const c = await raw(g.port);
    c.socket.write("POST /v1/claims HTTP/1.1\r\nHost: x\r\n");
    // One header byte every 100 ms, for a minute if nobody stops it.
    const stop = trickle(c, `X-Slow: ${"a".repeat(600)}\r\n`, 100);
    const cut = await within(c.closed, 15_000);
    stop();
    expect(cut, "the trickling connection must be closed by the server").toBe(true);
    expect(c.received()).toMatch(/^HTTP\/1\.1 408/);
  });

  it("a connection that never sends a byte is closed by the headers timeout", async () => {
    const g = await gateway({ headersTimeoutMs: 500, requestTimeoutMs: 1_000 });
    const c = await raw(g.port);
    expect(await within(c.closed, 15_000), "the silent fresh connection must be closed").toBe(true);
  });

  it("a client trickling its body is answered 408 and cut off by the request timeout", async () => {
    const g = await gateway({ headersTimeoutMs: 500, requestTimeoutMs: 1_000 });
    const c = await raw(g.port);
    const body = JSON.stringify({ userId: "slow", pad: "x".repeat(500) });
    c.socket.write(
      `POST /v1/claims HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TOKEN}\r\n` +
        `Content-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`,
    );
    const stop = trickle(c, body, 100);
    const cut = await within(c.closed, 15_000);
    stop();
    expect(cut, "a trickled body must not hold the connection (requestTimeout 0 did)").toBe(true);
    expect(c.received()).toMatch(/^HTTP\/1\.1 408/);
    // The request never reached the handler: no claim was made.
    expect(await redis.exists(new ClaimKeys(g.pool).waiting)).toBe(0);
  });

  it("a socket silent mid-request is closed by the idle timeout", async () => {
    // Headers complete, then not a byte of the announced body; request timeout far away.
    const g = await gateway(
      { headersTimeoutMs: 500, requestTimeoutMs: 60_000, socketIdleTimeoutMs: 1_500 },
      { maxWaitMs: 500, readyTimeoutMs: 500 },
    );
    const c = await raw(g.port);
    c.socket.write(
      `POST /v1/claims HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TOKEN}\r\nContent-Length: 20\r\n\r\n`,
    );
    expect(await within(c.closed, 20_000), "the silent socket must be closed").toBe(true);
  });

  it("a claim waiting longer than the request timeout is still answered", async () => {
    const g = await gateway({ headersTimeoutMs: 300, requestTimeoutMs: 500 });
    const responder = await startReadyResponder(redis, new Redis(server.url), g.pool);
    try {
      const pending = fetch(`${g.url}/v1/claims`, {
        method: "POST",
        headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
        body: JSON.stringify({ userId: "patient", waitMs: 30_000 }),
      });
      const keys = new ClaimKeys(g.pool);
      await waitFor("queued", async () => (await redis.llen(keys.waiting)) === 1);
      // Well past the request timeout (and Node's check interval) before a task arrives.
      await new Promise((r) => setTimeout(r, 1_500));
      await registerWarm(redis, g.pool, 1);
      const res = await pending;
      expect(res.status).toBe(201);
      expect(((await res.json()) as { warm: boolean }).warm).toBe(false);
    } finally {
      await responder.stop();
    }
  });

  it("an idle keep-alive connection outlives the headers timeout, then closes after keepAliveTimeout", async () => {
    const g = await gateway({ headersTimeoutMs: 300, requestTimeoutMs: 500, keepAliveTimeoutMs: 2_500 });
    const c = await raw(g.port);
    const get = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
    c.socket.write(get);
    await waitFor("first answer", () => /HTTP\/1\.1 200/.test(c.received()));
    // Idle for several headers timeouts (and check intervals): the connection must stay usable.
    await new Promise((r) => setTimeout(r, 1_200));
    expect(c.isClosed()).toBe(false);
    c.socket.write(get);
    await waitFor(
      "second answer on the same connection",
      () => c.received().split("HTTP/1.1 200").length === 3,
    );
    expect(await within(c.closed, 20_000), "closed once idle past keepAliveTimeout").toBe(true);
  });

  it("refuses timeouts that would cut waiting claims or that Node rejects, naming each", () => {
    expect(() => resolveTimeouts({ socketIdleTimeoutMs: 60_000 }, 300_000)).toThrow(
      /socketIdleTimeoutMs: must be longer than the longest claim wait \(300000 ms/,
    );
    expect(() => resolveTimeouts({ headersTimeoutMs: 5_000, requestTimeoutMs: 1_000 }, 1_000)).toThrow(
      /headersTimeoutMs: must not exceed requestTimeoutMs/,
    );
    expect(() => resolveTimeouts({ keepAliveTimeoutMs: 0 }, 1_000)).toThrow(
      /keepAliveTimeoutMs: must be a positive/,
    );
    expect(resolveTimeouts({}, 300_000).socketIdleTimeoutMs).toBeGreaterThan(300_000);
  });

  it("keep-alive outlasts the deployed load balancer's idle timeout (no 502 on reused connections)", () => {
    const m = evaluate();
    const lbIdleMs = Number(m.one("aws_lb.gateway")["idle_timeout"]) * 1000;
    const td = m.one("aws_ecs_task_definition.gateway");
    const env = (
      JSON.parse(td["container_definitions"] as string) as {
        environment: { name: string; value: string }[];
      }[]
    )[0]!.environment;
    const deployed = Number(env.find((e) => e.name === "WARMPOOL_KEEP_ALIVE_TIMEOUT_MS")?.value);
    expect(deployed).toBeGreaterThan(lbIdleMs);
    // And the flag's default, for deployments that do not set it, beats the module's default ALB.
    const y = yargs([]);
    (gatewayCommand.builder as (y: Argv) => Argv)(y);
    const opts = (y as unknown as { getOptions(): { default: Record<string, unknown> } }).getOptions();
    expect(Number(opts.default["keep-alive-timeout-ms"])).toBe(DEFAULT_KEEP_ALIVE_TIMEOUT_MS);
    expect(DEFAULT_KEEP_ALIVE_TIMEOUT_MS).toBeGreaterThan(lbIdleMs);
  });
});
