/**
 * Stand-ins for pool tasks that use the real register and ready paths (TaskChannel → Lua) without
 * a process per task: `registerWarm` registers records in bulk, `startReadyResponder` answers
 * every claim's init_user at once by watching the events stream (XREAD BLOCK, one connection).
 */
import { randomBytes } from "node:crypto";
import type { Redis } from "ioredis";
import { ClaimKeys, TaskChannel } from "../../pkg/claims/index.js";

export async function registerWarm(
  redis: Redis,
  pool: string,
  count: number,
  prefix = "t",
): Promise<string[]> {
  const ids: string[] = [];
  const batch: Promise<unknown>[] = [];
  for (let i = 0; i < count; i++) {
    const taskId = `${prefix}${randomBytes(6).toString("hex")}`;
    ids.push(taskId);
    const ch = new TaskChannel(redis, pool, taskId);
    batch.push(
      ch.register({
        taskArn: `arn:aws:ecs:us-east-1:000000000000:task/c/${taskId}`,
        revision: "arn:aws:ecs:us-east-1:000000000000:task-definition/f:1",
        endpoint: `127.0.0.1:${10000 + (i % 50000)}`,
        token: randomBytes(16).toString("hex"),
      }),
    );
    if (batch.length >= 500) await Promise.all(batch.splice(0));
  }
  await Promise.all(batch);
  return ids;
}

export interface ReadyResponder {
  /** init_user messages answered so far. */
  readonly answered: number;
  stop(): Promise<void>;
}

/** Answers each `claim` event with the task's ready report. `blocking` is dedicated to XREAD. */
export async function startReadyResponder(
  redis: Redis,
  blocking: Redis,
  pool: string,
): Promise<ReadyResponder> {
  const keys = new ClaimKeys(pool);
  let last = "$";
  let stopped = false;
  let answered = 0;
  // Take the current tail first, so claims made after this call are all seen.
  const tail = await redis.xrevrange(keys.events, "+", "-", "COUNT", 1);
  if (tail[0]) last = tail[0][0];
  else last = "0-0";
  const loop = (async () => {
    while (!stopped) {
      let res: [string, [string, string[]][]][] | null;
      try {
        res = (await blocking.xread(
          "COUNT",
          1000,
          "BLOCK",
          1000,
          "STREAMS",
          keys.events,
          last,
        )) as typeof res;
      } catch {
        if (stopped) return;
        throw new Error("ready responder lost its connection");
      }
      if (!res) continue;
      const jobs: Promise<unknown>[] = [];
      for (const [id, fields] of res[0]?.[1] ?? []) {
        last = id;
        const f: Record<string, string> = {};
        for (let i = 0; i + 1 < fields.length; i += 2) f[fields[i] as string] = fields[i + 1] as string;
        if (f.type === "claim" && f.taskId && f.claimId) {
          answered++;
          jobs.push(new TaskChannel(redis, pool, f.taskId).reportReady(f.claimId));
          // The inbox message a real bridge would pop; drop it so lists do not pile up.
          jobs.push(redis.del(keys.inbox(f.taskId)));
        }
      }
      await Promise.all(jobs);
    }
  })();
  return {
    get answered() {
      return answered;
    },
    async stop() {
      stopped = true;
      blocking.disconnect();
      await loop.catch(() => undefined);
    },
  };
}
