import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SharedBudget } from "../../pkg/budget/index.js";
import { startPrivateRedis, type PrivateRedis } from "../harness/index.js";
import { randomBytes } from "node:crypto";
import { sleep } from "../../pkg/util/index.js";

/** Redis TIME in ms: the budget's own clock. */
async function redisNow(r: Redis): Promise<number> {
  const [s, us] = await r.time();
  return Number(s) * 1000 + Number(us) / 1000;
}

describe("shared AWS call budget (GCRA in Redis)", () => {
  let server: PrivateRedis;
  const conns: Redis[] = [];
  const conn = (): Redis => {
    const c = new Redis(server.url);
    conns.push(c);
    return c;
  };
  const account = (): string => `acct-${randomBytes(3).toString("hex")}`;

  beforeAll(async () => {
    server = await startPrivateRedis();
  });
  afterAll(async () => {
    for (const c of conns) c.disconnect();
    await server?.stop();
  });

  it("refuses a bad budget, naming each field and rule", () => {
    expect(
      () =>
        new SharedBudget(conn(), {
          account: "a",
          region: "eu-west-1",
          api: "ecs-read",
          ratePerSec: 0,
          burst: 0.5,
        }),
    ).toThrow(/ratePerSec must be > 0, got 0; burst must be an integer ≥ 1, got 0.5/);
    expect(
      () =>
        new SharedBudget(conn(), {
          account: "A B",
          region: "eu-west-1",
          api: "ecs-read",
          ratePerSec: 1,
          burst: 1,
        }),
    ).toThrow(/invalid budget account "A B"/);
  });

  it("holds every pool and replica together to rate × time + burst", async () => {
    const acct = account();
    const rate = 40;
    const burst = 8;
    // Three pools, each on two replicas (own connections), all asking as fast as they are let.
    const askers = ["a", "b", "c"].flatMap((pool) =>
      [0, 1].map(() => ({
        pool,
        budget: new SharedBudget(conn(), {
          account: acct,
          region: "r1",
          api: "ecs-write",
          ratePerSec: rate,
          burst,
        }),
      })),
    );
    const probe = conn();
    const start = await redisNow(probe);
    const deadline = Date.now() + 2_000;
    const granted = new Map<string, number>();
    await Promise.all(
      askers.map(async ({ pool, budget }) => {
        while (Date.now() < deadline) {
          await budget.take(pool);
          granted.set(pool, (granted.get(pool) ?? 0) + 1);
        }
      }),
    );
    const elapsedS = ((await redisNow(probe)) - start) / 1000;
    const total = [...granted.values()].reduce((a, b) => a + b, 0);
    expect(total).toBeLessThanOrEqual(Math.ceil(rate * elapsedS) + burst);
    // Every pool got a share; none took the lion's share (each ≤ 1/2 of all with three asking).
    for (const pool of ["a", "b", "c"]) {
      expect(granted.get(pool) ?? 0).toBeGreaterThan(0);
      expect(granted.get(pool)!).toBeLessThanOrEqual(total / 2);
    }
  });

  it("a busy pool never empties the budget for a quiet one: the quiet pool's asks are granted at once", async () => {
    const acct = account();
    const mk = (): SharedBudget =>
      new SharedBudget(conn(), { account: acct, region: "r1", api: "ecs-write", ratePerSec: 40, burst: 12 });
    const busy = [mk(), mk()];
    let stop = false;
    let busyGranted = 0;
    let busyRefused = 0;
    const hammer = Promise.all(
      busy.map(async (b) => {
        while (!stop) {
          const a = await b.tryTake("busy");
          if (a.ok) busyGranted++;
          else {
            busyRefused++;
            await new Promise((r) => setTimeout(r, Math.min(a.waitMs, 5)));
          }
        }
      }),
    );
    // Let the busy pool run into its limit first.
    while (busyRefused < 20) await new Promise((r) => setTimeout(r, 10));
    const quiet = mk();
    const answers = [];
    for (let i = 0; i < 10; i++) {
      answers.push(await quiet.tryTake("quiet"));
      await new Promise((r) => setTimeout(r, 100));
    }
    stop = true;
    await hammer;
    expect(busyGranted).toBeGreaterThan(0);
    expect(answers.filter((a) => !a.ok)).toEqual([]);
    expect(answers.at(-1)?.activePools).toBe(2);
  });

  it("a lone pool may spend the whole rate, but only half the burst at once", async () => {
    const b = new SharedBudget(conn(), {
      account: account(),
      region: "r1",
      api: "ecs-read",
      ratePerSec: 1,
      burst: 10,
    });
    const answers = [];
    for (let i = 0; i < 6; i++) answers.push(await b.tryTake("only"));
    expect(answers.map((a) => a.ok)).toEqual([true, true, true, true, true, false]);
    const refused = answers[5]!;
    expect(refused.ok).toBe(false);
    if (!refused.ok) expect(refused.waitMs).toBeGreaterThan(500);
  });
  it("a fresh pool whose share is exactly one call is granted at once, whatever the rate (no rounding error)", async () => {
    // rate 6 → 166.67 ms per call: with n pools active a fresh pool's own bucket allows exactly
    // one call, and `now + x - now` at now ≈ 1.8e12 ms once rounded that up to a refusal.
    const acct = `fresh-${Date.now()}`;
    const b = new SharedBudget(conn(), {
      account: acct,
      region: "r1",
      api: "ecs-write",
      ratePerSec: 6,
      burst: 6,
    });
    const refused: string[] = [];
    for (let i = 0; i < 30; i++) {
      const a = await b.tryTake(`pool-${i}`, 1);
      if (!a.ok) refused.push(`pool-${i} (${a.activePools} active, wait ${a.waitMs} ms)`);
      // Stay under the whole budget's rate: only the per-pool bucket is under test.
      await sleep(200);
    }
    expect(refused).toEqual([]);
  }, 30_000);
});
