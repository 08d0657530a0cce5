/**
 * The Redis password never leaves the gateway: not on stdout or stderr when it cannot connect at
 * start, not in its outage logs, not in any answer while Redis is down. The gateway runs as
 * `warmpool gateway` (dist/, built by `npx tsc -p .` as `npm test` does) against a real
 * password-protected redis-server.
 */
import { spawn } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cliEntry } from "../../pkg/util/index.js";
import { freePort, startPrivateRedis, waitFor, type PrivateRedis } from "../harness/index.js";

const PASSWORD = "pw-Sup3rSecret-7f3a9c";
const TOKEN = "secret-test-token-0123456789";

interface Proc {
  out(): string;
  err(): string;
  exited: Promise<number | null>;
  kill(): void;
}

function gatewayProcess(redisUrl: string, port = 0): Proc {
  const child = spawn(process.execPath, [cliEntry(), "gateway", "--pool", "sec", "--port", String(port)], {
    stdio: ["ignore", "pipe", "pipe"],
    env: {
      PATH: process.env.PATH ?? "",
      HOME: process.env.HOME ?? "/tmp",
      WARMPOOL_REDIS_URL: redisUrl,
      WARMPOOL_GATEWAY_TOKENS: TOKEN,
      WARMPOOL_LOG_FORMAT: "json",
    },
  });
  let out = "";
  let err = "";
  child.stdout.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr.on("data", (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
  return { out: () => out, err: () => err, exited, kill: () => child.kill("SIGTERM") };
}

let redis: PrivateRedis;
beforeAll(async () => {
  redis = await startPrivateRedis({ extraArgs: ["--requirepass", PASSWORD] });
});
afterAll(async () => {
  await redis?.stop();
});

describe("the gateway never prints the Redis password", () => {
  it.each([
    ["a password alone", (port: number) => `redis://:${PASSWORD}@127.0.0.1:${port}/0`],
    ["an ACL user and password", (port: number) => `redis://gateway:${PASSWORD}@127.0.0.1:${port}`],
  ])("unreachable Redis at start (%s): a clear error, exit ≠ 0, no password", async (_what, url) => {
    const p = gatewayProcess(url(await freePort()));
    const code = await p.exited;
    expect(code).not.toBe(0);
    const all = p.out() + p.err();
    expect(all).toMatch(/connecting to redis at redis:\/\/.*\*\*\*@127\.0\.0\.1/);
    expect(all).not.toContain(PASSWORD);
  });

  it("Redis lost while serving: outage logs and 503 answers carry no password", async () => {
    const port = await freePort();
    const p = gatewayProcess(`redis://:${PASSWORD}@127.0.0.1:${redis.port}`, port);
    const url = `http://127.0.0.1:${port}`;
    try {
      await waitFor("gateway listening", () => p.out().includes(url), 30_000);
      expect((await fetch(`${url}/readyz`)).status).toBe(200);
      await redis.kill();
      const bodies: string[] = [];
      await waitFor(
        "503 from the claim API",
        async () => {
          const r = await fetch(`${url}/v1/claims`, {
            method: "POST",
            headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
            body: '{"userId":"alice"}',
          });
          bodies.push(await r.text(), await (await fetch(`${url}/readyz`)).text());
          return r.status === 503;
        },
        30_000,
      );
      await waitFor("outage logged", () => /redis connection error/.test(p.err()), 30_000);
      expect(bodies.join("\n")).toMatch(/redis unavailable/);
      expect(bodies.join("\n")).not.toContain(PASSWORD);
      expect(p.out() + p.err()).not.toContain(PASSWORD);
    } finally {
      p.kill();
      await p.exited;
      await redis.restart();
    }
  });
});
