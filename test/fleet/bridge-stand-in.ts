import { randomBytes } from "node:crypto";
import type { Redis } from "ioredis";
import type { Emulator } from "../../hack/emulator/index.js";
import { TaskChannel } from "../../pkg/claims/index.js";

/**
 * The tasks' side for fleet tests: every RUNNING task of any pool registers warm through the real
 * register script, as its bridge would (the pool is the task's `startedBy`). Returns the stop.
 */
export function registerRunningTasks(emu: Emulator, redis: Redis): () => void {
  const registered = new Set<string>();
  let busy = false;
  const timer = setInterval(() => {
    if (busy) return;
    busy = true;
    void (async () => {
      for (const t of emu.control.tasks()) {
        if (!t.startedBy || t.lastStatus !== "RUNNING" || t.desiredStatus !== "RUNNING") continue;
        if (registered.has(t.taskId)) continue;
        registered.add(t.taskId);
        await new TaskChannel(redis, t.startedBy, t.taskId)
          .register({
            taskArn: t.taskArn,
            revision: t.taskDefinitionArn,
            endpoint: "127.0.0.1:9",
            token: randomBytes(8).toString("hex"),
          })
          .catch(() => registered.delete(t.taskId));
      }
    })().finally(() => (busy = false));
  }, 30);
  return () => clearInterval(timer);
}
