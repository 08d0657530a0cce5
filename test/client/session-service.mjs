/* global process, console, setTimeout */
// A session service as a team adopting ecs-warmpool writes it: plain JavaScript, and only the
// package's published entry points ("ecs-warmpool/client"). Usage:
//   node session-service.mjs <gateway-url> <token> <userId>
// Prints one JSON line per step: claimed, heartbeat, pool, released, refused.
import { GatewayError, WarmpoolClient } from "ecs-warmpool/client";

const [baseUrl, token, userId] = process.argv.slice(2);
const client = new WarmpoolClient({ baseUrl, token });
const say = (event, data) => console.log(JSON.stringify({ event, ...data }));

const claim = await client.claim({ userId, leaseSeconds: 30, waitMs: 20_000 });
say("claimed", claim);
const beats = client.keepAlive(claim.claimId, { intervalMs: 150, leaseSeconds: 30 });
say("heartbeat", await client.heartbeat(claim.claimId, { leaseSeconds: 45 }));
say("pool", await client.pool());
await new Promise((r) => setTimeout(r, 500)); // the session runs; the loop renews the lease
await beats.stop();
say("released", await client.release(claim.claimId));

try {
  await client.claim({ userId: "../etc" });
} catch (e) {
  if (!(e instanceof GatewayError)) throw e;
  say("refused", { status: e.status, kind: e.kind, field: e.problem.field, detail: e.problem.detail });
}
