/**
 * The gateway as its own process for the benchmark (as deployed: one process, its own event
 * loop): runGateway on a free port, prints its URL as one line, and answers until SIGTERM.
 *
 *   node dist/test/bench/gateway-process.js <redisUrl> <pool> <token>
 */
import { runGateway } from "../../pkg/gateway/index.js";

const [redisUrl, pool, tokens] = process.argv.slice(2);
if (!redisUrl || !pool || !tokens) throw new Error("usage: gateway-process <redisUrl> <pool> <token>");
const gw = await runGateway({
  pool,
  redisUrl,
  host: "127.0.0.1",
  port: 0,
  tokens,
  defaultLeaseSeconds: 300,
  defaultWaitMs: 0,
  maxWaitMs: 60_000,
  readyTimeoutMs: 30_000,
  retryAfterSeconds: 1,
});
process.stdout.write(`${gw.url}\n`);
process.once("SIGTERM", () => {
  void gw.close().then(() => process.exit(0));
});
