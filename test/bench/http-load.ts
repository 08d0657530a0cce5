/**
 * A closed-loop HTTP load generator run as its own process, so the figures are the server's and
 * not the client's: `concurrency` callers over node:http keep-alive sockets POST a claim, each
 * sending its next request when the answer ends. Prints one JSON line of LatencyFigures and the
 * status counts.
 *
 *   node dist/test/bench/http-load.js <url> <token> <requests> <concurrency>
 */
import { Agent, request } from "node:http";
import { figures } from "./bench-stats.js";
import { performance } from "node:perf_hooks";

const [url, token, nArg, cArg] = process.argv.slice(2);
if (!url || !token) throw new Error("usage: http-load <url> <token> <requests> <concurrency>");
const total = Number(nArg ?? 3000);
const concurrency = Number(cArg ?? 64);
const target = new URL(url);
const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
const body = JSON.stringify({ userId: "bench-user" });
const headers = {
  authorization: `Bearer ${token}`,
  "content-type": "application/json",
  "content-length": String(Buffer.byteLength(body)),
};

function post(): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: target.hostname,
        port: Number(target.port),
        method: "POST",
        path: "/v1/claims",
        agent,
        headers,
      },
      (res) => {
        res.resume();
        res.once("end", () => resolve(res.statusCode ?? 0));
      },
    );
    req.once("error", reject);
    req.end(body);
  });
}

// Warm the sockets and the JIT on both sides before timing (these claims count as consumed).
const warmup = Number(process.env.WARMUP ?? 0);
for (let i = 0; i < warmup; i += concurrency)
  await Promise.all(Array.from({ length: Math.min(concurrency, warmup - i) }, post));

const lat: number[] = [];
const statuses: Record<number, number> = {};
let next = 0;
const t0 = performance.now();
await Promise.all(
  Array.from({ length: concurrency }, async () => {
    while (next++ < total) {
      const s = performance.now();
      const status = await post();
      lat.push(performance.now() - s);
      statuses[status] = (statuses[status] ?? 0) + 1;
    }
  }),
);
const f = figures(lat, (performance.now() - t0) / 1000);
agent.destroy();
console.log(JSON.stringify({ ...f, statuses }));
