/**
 * The stand-in bridges as their own process for the benchmark (bridges never share the claimant's
 * event loop): answers every claim's init_user with the real ready script until SIGTERM, after
 * printing one line once it listens.
 *
 *   node dist/test/bench/responder-process.js <redisUrl> <pool>
 */
import { Redis } from "ioredis";
import { startReadyResponder } from "../claims/stand-in.js";

const [redisUrl, pool] = process.argv.slice(2);
if (!redisUrl || !pool) throw new Error("usage: responder-process <redisUrl> <pool>");
const redis = new Redis(redisUrl, { enableAutoPipelining: true });
const responder = await startReadyResponder(redis, new Redis(redisUrl), pool);
process.stdout.write("listening\n");
process.once("SIGTERM", () => {
  void responder.stop().then(() => {
    redis.disconnect();
    process.exit(0);
  });
});
