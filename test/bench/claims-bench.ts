/**
 * Claim latency against the floor of a Redis round trip, on loopback, with a private redis-server:
 * PING p50/p99 on a connection, then on that same connection the claim script alone (the Lua take
 * of a warm task) and the library claim end to end (take → init_user → a stand-in bridge reports
 * ready → notice), sequential and at 16 / 64 concurrent callers. Each claim consumes a task, so
 * warm records are registered in bulk first.
 *
 * `benchGateway` measures the same through the HTTP gateway at 64 concurrent clients.
 *
 *   npx tsc -p . && node dist/test/bench/claims-bench.js
 */
import { randomUUID } from "node:crypto";
import { Agent, request } from "node:http";
import { performance } from "node:perf_hooks";
import { pathToFileURL } from "node:url";
import { Redis } from "ioredis";
import { ClaimKeys, ClaimService, IDEMPOTENCY_TTL_MS } from "../../pkg/claims/index.js";
import { runGateway } from "../../pkg/gateway/index.js";
import { runScript } from "../../pkg/claims/scripts.js";
import { startPrivateRedis, uniquePool } from "../harness/index.js";
import { registerWarm, startReadyResponder } from "../claims/stand-in.js";

export interface LatencyFigures {
  p50Ms: number;
  p99Ms: number;
  perSecond: number;
}

export interface ClaimsBenchResult {
  ping: LatencyFigures;
  /** The claim script alone (one EVALSHA), sequential. */
  luaClaim: LatencyFigures & { p50OverPing: number };
  /** ClaimService.claim() to ready, by concurrency. */
  libraryClaim: Record<number, LatencyFigures & { p50OverPing: number }>;
}

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

async function measure(
  total: number,
  concurrency: number,
  op: () => Promise<unknown>,
): Promise<LatencyFigures> {
  const lat: number[] = [];
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next++ < total) {
        const s = performance.now();
        await op();
        lat.push(performance.now() - s);
      }
    }),
  );
  const wall = (performance.now() - t0) / 1000;
  lat.sort((a, b) => a - b);
  return { p50Ms: pct(lat, 50), p99Ms: pct(lat, 99), perSecond: lat.length / wall };
}

export async function benchClaims(
  opts: { claims?: number; pings?: number } = {},
): Promise<ClaimsBenchResult> {
  const n = opts.claims ?? 3000;
  const server = await startPrivateRedis();
  const redis = new Redis(server.url);
  const pool = uniquePool("bench");
  const keys = new ClaimKeys(pool);
  const svc = new ClaimService({ pool, redis, readyTimeoutMs: 30_000 });
  await svc.start();
  const responder = await startReadyResponder(redis, new Redis(server.url), pool);
  try {
    for (let i = 0; i < 500; i++) await redis.ping(); // warm up connection and JIT
    const ping = await measure(opts.pings ?? 5000, 1, () => redis.ping());

    await registerWarm(redis, pool, n);
    const lua = await measure(n, 1, () => {
      const id = randomUUID();
      return runScript(
        redis,
        "claim",
        [keys.warm, keys.claims, keys.waiting, keys.events, keys.claim(id), keys.idempotency("-")],
        [id, "bench-user", 60_000, "0", keys.taskPrefix, "0", IDEMPOTENCY_TTL_MS, 0],
      );
    });

    const libraryClaim: ClaimsBenchResult["libraryClaim"] = {};
    for (const c of [1, 16, 64]) {
      await registerWarm(redis, pool, n);
      const f = await measure(n, c, async () => {
        const r = await svc.claim({ userId: "bench-user", waitMs: 0 });
        if (r.outcome !== "ready") throw new Error(`claim ${r.outcome}`);
      });
      libraryClaim[c] = { ...f, p50OverPing: f.p50Ms / ping.p50Ms };
    }
    return { ping, luaClaim: { ...lua, p50OverPing: lua.p50Ms / ping.p50Ms }, libraryClaim };
  } finally {
    await responder.stop();
    await svc.close();
    redis.disconnect();
    await server.stop();
  }
}

/** POST /v1/claims over loopback HTTP (keep-alive) to ready, with the same stand-in bridge. */
export async function benchGateway(
  opts: { claims?: number; concurrency?: number } = {},
): Promise<LatencyFigures> {
  const n = opts.claims ?? 3000;
  const server = await startPrivateRedis();
  const redis = new Redis(server.url);
  const pool = uniquePool("bench");
  const token = "bench-token-0123456789abcdef";
  const gw = await runGateway({
    pool,
    redisUrl: server.url,
    host: "127.0.0.1",
    port: 0,
    tokens: token,
    defaultLeaseSeconds: 300,
    defaultWaitMs: 0,
    maxWaitMs: 60_000,
    readyTimeoutMs: 30_000,
    retryAfterSeconds: 1,
  });
  const responder = await startReadyResponder(redis, new Redis(server.url), pool);
  try {
    await registerWarm(redis, pool, n);
    // node:http with keep-alive: fetch (undici) costs more CPU per request than the gateway itself.
    const agent = new Agent({ keepAlive: true, maxSockets: opts.concurrency ?? 64 });
    const { port } = new URL(gw.url);
    const body = JSON.stringify({ userId: "bench-user" });
    const post = (): Promise<number> =>
      new Promise((resolve, reject) => {
        const req = request(
          {
            host: "127.0.0.1",
            port: Number(port),
            method: "POST",
            path: "/v1/claims",
            agent,
            headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
          },
          (res) => {
            res.resume();
            res.once("end", () => resolve(res.statusCode ?? 0));
          },
        );
        req.once("error", reject);
        req.end(body);
      });
    try {
      return await measure(n, opts.concurrency ?? 64, async () => {
        const status = await post();
        if (status !== 201) throw new Error(`gateway answered ${status}`);
      });
    } finally {
      agent.destroy();
    }
  } finally {
    await responder.stop();
    await gw.close();
    redis.disconnect();
    await server.stop();
  }
}

function fmt(f: LatencyFigures): string {
  return `p50 ${f.p50Ms.toFixed(3)} ms  p99 ${f.p99Ms.toFixed(3)} ms  ${Math.round(f.perSecond)}/s`;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const r = await benchClaims();
  console.log(`redis PING                     ${fmt(r.ping)}`);
  console.log(
    `claim script (Lua), 1 caller   ${fmt(r.luaClaim)}  p50 = ${r.luaClaim.p50OverPing.toFixed(2)}x PING`,
  );
  for (const [c, f] of Object.entries(r.libraryClaim)) {
    const label = `library claim → ready, ${c} conc`.padEnd(31);
    console.log(`${label}${fmt(f)}  p50 = ${f.p50OverPing.toFixed(2)}x PING`);
  }
  console.log(`gateway HTTP claim → ready, 64 ${fmt(await benchGateway())}`);
}
