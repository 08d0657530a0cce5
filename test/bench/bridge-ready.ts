/**
 * Claim → ready end to end with real `warmpool bridge` processes (the built CLI) each starting a
 * real agent (`cat`): bridges are started in small batches until warm, then claimed one at a time
 * through ClaimService, so each sample is take → init_user → workspace + agent spawn → ready
 * report → notice, with nothing else competing. Each bridge serves one claim and is then stopped.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { Redis } from "ioredis";
import { ClaimKeys, ClaimService } from "../../pkg/claims/index.js";
import { startPrivateRedis, uniquePool, waitFor } from "../harness/index.js";
import { spawnBridge, type BridgeProcess } from "../bridge/spawn-bridge.js";
import { figures, type LatencyFigures } from "./bench-stats.js";

export async function benchClaimToReady(
  opts: { claims?: number; batch?: number } = {},
): Promise<LatencyFigures> {
  const total = opts.claims ?? 40;
  const batch = opts.batch ?? 8;
  const server = await startPrivateRedis();
  const redis = new Redis(server.url);
  const pool = uniquePool("bench-e2e");
  const keys = new ClaimKeys(pool);
  const svc = new ClaimService({ pool, redis, readyTimeoutMs: 30_000 });
  await svc.start();
  const root = mkdtempSync(join(tmpdir(), "warmpool-bench-"));
  const lat: number[] = [];
  let wall = 0;
  try {
    while (lat.length < total) {
      const bridges: BridgeProcess[] = Array.from({ length: Math.min(batch, total - lat.length) }, () =>
        spawnBridge({ pool, redisUrl: server.url, root, agent: JSON.stringify(["cat"]) }),
      );
      try {
        await waitFor(
          `${bridges.length} bridges warm (stderr: ${bridges[0]?.stderr()})`,
          async () => (await redis.zcard(keys.warm)) === bridges.length,
          60_000,
        );
        for (let i = 0; i < bridges.length; i++) {
          const s = performance.now();
          const r = await svc.claim({ userId: `bench${lat.length}`, waitMs: 0 });
          const ms = performance.now() - s;
          if (r.outcome !== "ready") throw new Error(`claim ${r.outcome}`);
          lat.push(ms);
          wall += ms / 1000;
        }
      } finally {
        for (const b of bridges) b.child.kill("SIGTERM");
        await Promise.all(bridges.map((b) => b.exited));
      }
    }
    return figures(lat, wall);
  } finally {
    await svc.close();
    redis.disconnect();
    await server.stop();
    rmSync(root, { recursive: true, force: true });
  }
}
