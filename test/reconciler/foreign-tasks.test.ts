import { ECSClient, RunTaskCommand } from "@aws-sdk/client-ecs";
import { afterEach, describe, expect, it } from "vitest";
import { waitFor } from "../harness/index.js";
import { setDesired, startWorld, type World } from "./env.js";

/**
 * Only the pool's own tasks (issue 13 point 3): another service's task in the same cluster, and
 * another whose ARN was planted in a `draining` record (under its own id and under a made-up one),
 * are never stopped — counted from the emulator's ground truth, with every way of observing ECS.
 * Shown to fail: with the pool filter in pkg/ecs isPoolTask made to accept every task, the
 * planted draining records plan `stop` and this test sees the foreign tasks stopped.
 */
describe("foreign tasks are never stopped (real Redis, emulator over HTTP)", () => {
  let w: World | undefined;
  afterEach(async () => {
    await w?.close();
    w = undefined;
  });

  it.each([
    ["cache + feed", { observe: "cache" }, true],
    ["cache, no feed", { observe: "cache" }, false],
    ["list", { observe: "list" }, false],
  ] as const)(
    "%s: another service's task and a planted ARN survive every pass and relist",
    async (_, flags, feed) => {
      w = await startWorld({ feed });
      const world = w;
      await setDesired(world, { minWarm: 2, maxWarm: 2, replenishThreshold: 2, maxTasks: 4 });
      const ecs = new ECSClient({ endpoint: world.emu.endpoint, region: "us-east-1", maxAttempts: 1 });
      const foreign = async (startedBy: string, group: string): Promise<string> =>
        (
          await ecs.send(
            new RunTaskCommand({
              cluster: "default",
              taskDefinition: world.taskDefinitionArn,
              startedBy,
              group,
            }),
          )
        ).tasks![0]!.taskArn!;
      const service = await foreign("ecs-svc-1234567890", "service:gateway");
      const planted = await foreign("deploy-pipeline", "family:other");
      // A task that claims the pool's startedBy but runs in another service's group.
      const lookalike = await foreign(world.pool, "service:reconciler");
      ecs.destroy();
      const idOf = (arn: string): string => arn.split("/").pop()!;
      const now = String(Date.now() - 120_000); // past every grace: old enough to act on
      for (const [id, arn] of [
        [idOf(planted), planted],
        ["planted-record", planted],
        [idOf(lookalike), lookalike],
      ] as const) {
        await world.redis.hset(world.keys.task(id), {
          state: "draining",
          taskArn: arn,
          createdAt: now,
          drainReason: "released",
        });
        await world.redis.sadd(world.keys.tasks, id);
      }
      const rec = await world.startReconciler({
        ...flags,
        "relist-interval": "1s",
        "visibility-grace": "1s",
      });
      await waitFor("the pool at target", async () => (await world.states()).warm === 2, 20_000);
      const passes = rec.reconciler.passes;
      // Several passes and (in cache mode) several relists and targeted describes.
      await waitFor("more passes", () => rec.reconciler.passes >= passes + 6, 20_000);
      await new Promise((r) => setTimeout(r, 2_500));
      for (const arn of [service, planted, lookalike]) {
        const t = world.emu.control.task(arn)!;
        expect({ arn, desired: t.desiredStatus, reason: t.stoppedReason }).toEqual({
          arn,
          desired: "RUNNING",
          reason: undefined,
        });
      }
      // The pool's own tasks: exactly the two it launched, two live, and StopTask never called
      // (an overshoot, once seen here on a loaded machine, launched a third and stopped it as excess:
      // docs/reconciler.md, "Launches survive a lapsed lease").
      const own = world.launches().filter((t) => t.group === `warmpool:${world.pool}`);
      expect(own.filter((t) => t.lastStatus !== "STOPPED")).toHaveLength(2);
      expect(own).toHaveLength(2);
      expect(world.emu.control.calls().StopTask?.ok ?? 0).toBe(0);
      // How ECS is observed is said in /status (and so in ctl status).
      const o = rec.reconciler.snapshot().observe;
      if (flags.observe === "list") expect(o).toEqual({ mode: "list" });
      else
        expect(o && "feed" in o ? (o.feed?.state ?? "no feed configured") : undefined).toBe(
          feed ? "up" : "no feed configured",
        );
    },
  );
});
