import type { EcsTask } from "../plan/index.js";
import type { DescribedTasks, TaskReader } from "./types.js";

export interface EcsObservation {
  tasks: EcsTask[];
  /** Known ARNs ECS answered MISSING for: gone for good. */
  missing: string[];
  /** ARNs described (a record's) that the pool did not start: dropped, never planned on. */
  foreign: string[];
  /** API calls this observation made, for the steady-state budget. */
  calls: { list: number; describe: number };
}

export interface ObserveOptions {
  /**
   * ARNs the pool knows (Redis records) that ListTasks did not return. They are described too:
   * DescribeTasks by ARN sees a task that ListTasks does not list yet (visibility lag) and tells
   * a stopped task from a lagging one. In steady state every record is listed: no extra call.
   */
  knownArns?: Iterable<string>;
  maxPages?: number;
}

/**
 * Observes the pool's tasks: ListTasks(startedBy=<pool>, desiredStatus=RUNNING) paginated, and
 * DescribeTasks in batches of 100 — ⌈N/100⌉ + ⌈N/100⌉ calls for N tasks. Any failure throws, so
 * the caller marks the pass partial rather than acting on half a picture.
 */
export async function observeEcs(reader: TaskReader, opts: ObserveOptions = {}): Promise<EcsObservation> {
  const seen = new Set<string>();
  const described: Promise<DescribedTasks>[] = [];
  let list = 0;
  let nextToken: string | undefined;
  const maxPages = opts.maxPages ?? 10_000;
  // A page holds at most 100 ARNs, one DescribeTasks batch: it is described while the next page
  // is listed, so the pass takes about as long as the list walk alone.
  try {
    do {
      if (list >= maxPages) throw new Error(`ListTasks returned more than ${maxPages} pages`);
      const page = await reader.listTasks({ desiredStatus: "RUNNING", ...(nextToken ? { nextToken } : {}) });
      list++;
      const fresh = page.taskArns.filter((a) => !seen.has(a));
      for (const a of fresh) seen.add(a);
      for (let i = 0; i < fresh.length; i += 100)
        described.push(reader.describeTasks(fresh.slice(i, i + 100)));
      nextToken = page.nextToken;
    } while (nextToken);
  } catch (err) {
    // The describes already sent settle first: none may reject later with nobody listening
    // (an unhandled rejection ends the process, e.g. on shutdown mid-walk).
    await Promise.allSettled(described);
    throw err;
  }
  const extra = [...(opts.knownArns ?? [])].filter((a) => !seen.has(a));
  for (let i = 0; i < extra.length; i += 100) described.push(reader.describeTasks(extra.slice(i, i + 100)));
  // Every describe settles before a failure is reported, so no call outlives the observation.
  const settled = await Promise.allSettled(described);
  const failed = settled.find((r) => r.status === "rejected");
  if (failed) throw failed.reason;
  const done = settled.map((r) => (r as PromiseFulfilledResult<DescribedTasks>).value);
  return {
    tasks: done.flatMap((d) => d.tasks),
    missing: done.flatMap((d) => d.missing),
    foreign: done.flatMap((d) => d.foreign),
    calls: { list, describe: described.length },
  };
}
