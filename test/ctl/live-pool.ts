/**
 * A live pool under load on this machine, for watching `warmpool ctl status --watch` during a
 * rollout (docs/ctl-status-watch.txt was captured from it). Private redis-server, the ECS
 * emulator over HTTP with two revisions of the task definition, the real reconciler, stand-in
 * bridges that register RUNNING tasks through the register script and answer init_user, and a
 * steady stream of claims, each held a few seconds and released. Runs until SIGINT.
 *
 *   npx tsc -p . && node dist/test/ctl/live-pool.js [claimsPerSec=1.5] [timeScale=0.15]
 *   # prints the URL and pool; then, in another terminal:
 *   warmpool ctl status --watch --redis-url <url> --pool <pool>
 *   warmpool ctl config set taskDefinition=warmpool-test:2 --yes --reason "roll out v2"
 */
import { randomBytes } from "node:crypto";
import { ECSClient, RegisterTaskDefinitionCommand } from "@aws-sdk/client-ecs";
import { ClaimService } from "../../pkg/claims/index.js";
import { startReadyResponder } from "../claims/stand-in.js";
import { FAMILY } from "../ecs/env.js";
import { setDesired, startWorld } from "../reconciler/env.js";

const rate = Number(process.argv[2] ?? 1.5);
const timeScale = Number(process.argv[3] ?? 0.15);

const world = await startWorld({ emulator: { timeScale } });
const ecs = new ECSClient({ endpoint: world.emu.endpoint, region: "us-east-1" });
await ecs.send(
  new RegisterTaskDefinitionCommand({
    family: FAMILY,
    containerDefinitions: [{ name: "agent", image: "warmpool/agent:v2", essential: true, memory: 128 }],
  }),
);
ecs.destroy();
await setDesired(world, {
  minWarm: 6,
  maxWarm: 12,
  replenishThreshold: 3,
  maxTasks: 40,
  maxSurge: 2,
  taskDefinition: `${FAMILY}:1`,
});
await world.startReconciler({ "resync-interval": "1s" });
const responder = await startReadyResponder(world.redis, world.redis.duplicate(), world.pool);
const claims = new ClaimService({ pool: world.pool, redis: world.redis });
await claims.start();

console.log(`WARMPOOL_REDIS_URL=${world.redisServer.url} WARMPOOL_POOL=${world.pool}`);
console.log(`load: ${rate} claims/s, each held 4–12 s; emulator timeScale ${timeScale}; Ctrl-C to stop`);

let stopping = false;
const tally = { ready: 0, other: 0 };
const load = setInterval(() => {
  if (stopping || Math.random() > rate / 4) return;
  void (async () => {
    const r = await claims.claim({ userId: `user-${randomBytes(3).toString("hex")}`, waitMs: 20_000 });
    if (r.outcome !== "ready") {
      tally.other++;
      return;
    }
    tally.ready++;
    await new Promise((res) => setTimeout(res, 4_000 + Math.random() * 8_000));
    if (!stopping) await claims.release(r.claim.claimId, "session ended");
  })().catch(() => tally.other++);
}, 250);

await new Promise<void>((resolve) => process.once("SIGINT", () => resolve()));
stopping = true;
clearInterval(load);
console.log(`claims ready ${tally.ready}, other ${tally.other}; stopping`);
await claims.close();
await responder.stop();
await world.close();
process.exit(0);
