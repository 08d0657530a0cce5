/**
 * A closed-loop HTTP load generator run as its own process, so the figures are the server's and
 * not the client's: `concurrency` keep-alive connections each POST a claim and send the next
 * when the answer has arrived. It is deliberately light (a pre-built request written on a raw
 * socket; of the answer only the status line and Content-Length are read, the body skipped), so
 * that little of its own CPU and garbage lands in the latencies it reports — node:http's client
 * costs about as much per request as the server being measured.
 *
 * It takes commands on stdin, one per line, and answers each with one JSON line on stdout:
 *
 *   warm <n>   n claims, not timed (sockets and JIT on both sides)  → {"done":n}
 *   run <n>    n claims, timed                                     → {"lat":[…ms of the 201s],"statuses":{…},"failed":k,"wallMs":…}
 *
 * Only 201 answers are timed; any other answer is counted in `statuses` and `failed` (the bench
 * fails on any), never timed as a claim.
 *
 *   node dist/test/bench/http-load.js <url> <token> <concurrency>
 */
import { connect, type Socket } from "node:net";
import { performance } from "node:perf_hooks";
import { createInterface } from "node:readline";

const [url, token, cArg] = process.argv.slice(2);
if (!url || !token) throw new Error("usage: http-load <url> <token> <concurrency>");
const concurrency = Number(cArg ?? 64);
const target = new URL(url);
const body = JSON.stringify({ userId: "bench-user" });
const request = Buffer.from(
  `POST /v1/claims HTTP/1.1\r\nHost: ${target.host}\r\nAuthorization: Bearer ${token}\r\n` +
    `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
    `Connection: keep-alive\r\n\r\n${body}`,
);

/** One keep-alive connection: `post()` sends the request and resolves with the answer's status. */
class Conn {
  private buf: Buffer = Buffer.alloc(0);
  private pending?: { resolve(status: number): void; reject(e: Error): void };
  private readonly sock: Socket;

  constructor() {
    this.sock = connect({ host: target.hostname, port: Number(target.port), noDelay: true });
    this.sock.on("data", (d: Buffer) => this.onData(d));
    this.sock.on("error", (e) => this.pending?.reject(e));
    this.sock.on("close", () => this.pending?.reject(new Error("connection closed by the gateway")));
  }

  post(): Promise<number> {
    return new Promise((resolve, reject) => {
      this.pending = { resolve, reject };
      this.sock.write(request);
    });
  }

  private onData(d: Buffer): void {
    this.buf = this.buf.length === 0 ? d : Buffer.concat([this.buf, d]);
    const end = this.buf.indexOf("\r\n\r\n");
    if (end < 0) return;
    const head = this.buf.toString("latin1", 0, end);
    const m = /\r\ncontent-length: *(\d+)/i.exec(head);
    if (!m) throw new Error(`answer without Content-Length: ${head}`);
    const total = end + 4 + Number(m[1]);
    if (this.buf.length < total) return;
    if (this.buf.length > total) throw new Error("more bytes than one answer (no pipelining here)");
    this.buf = Buffer.alloc(0);
    const p = this.pending;
    this.pending = undefined;
    p?.resolve(Number(head.slice(9, 12)));
  }

  close(): void {
    this.sock.destroy();
  }
}

const conns = Array.from({ length: concurrency }, () => new Conn());

async function drive(n: number, timed: boolean): Promise<Record<string, unknown>> {
  const lat: number[] = [];
  const statuses: Record<number, number> = {};
  let failed = 0;
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    conns.map(async (c) => {
      while (next++ < n) {
        const s = performance.now();
        const status = await c.post();
        const ms = performance.now() - s;
        statuses[status] = (statuses[status] ?? 0) + 1;
        if (status === 201) lat.push(Math.round(ms * 1000) / 1000);
        else failed++;
      }
    }),
  );
  const wallMs = performance.now() - t0;
  return timed ? { lat, statuses, failed, wallMs } : { done: n, statuses, failed };
}

let queue = Promise.resolve();
const rl = createInterface({ input: process.stdin });
rl.on("line", (line) => {
  const [cmd, arg] = line.trim().split(/\s+/);
  queue = queue.then(async () => {
    if (cmd !== "warm" && cmd !== "run") throw new Error(`unknown command ${line}`);
    const out = await drive(Number(arg), cmd === "run");
    process.stdout.write(`${JSON.stringify(out)}\n`);
  });
});
rl.on("close", () => void queue.then(() => conns.forEach((c) => c.close())));
