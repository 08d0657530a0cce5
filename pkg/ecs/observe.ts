import type { EcsTask } from "../plan/index.js";
import type { TaskReader } from "./types.js";

export interface EcsObservation {
  tasks: EcsTask[];
  /** Known ARNs ECS answered MISSING for: gone for good. */
  missing: string[];
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
 * Observes the pool's tasks: ListTasks(startedBy=<pool>, desiredStatus=RUNNING) paginated, then
 * DescribeTasks in batches of 100 — ⌈N/100⌉ + ⌈N/100⌉ calls for N tasks. Any failure throws, so
 * the caller marks the pass partial rather than acting on half a picture.
 */
export async function observeEcs(reader: TaskReader, opts: ObserveOptions = {}): Promise<EcsObservation> {
  const arns = new Set<string>();
  let list = 0;
  let nextToken: string | undefined;
  const maxPages = opts.maxPages ?? 10_000;
  do {
    if (list >= maxPages) throw new Error(`ListTasks returned more than ${maxPages} pages`);
    const page = await reader.listTasks({ desiredStatus: "RUNNING", ...(nextToken ? { nextToken } : {}) });
    list++;
    for (const a of page.taskArns) arns.add(a);
    nextToken = page.nextToken;
  } while (nextToken);
  for (const a of opts.knownArns ?? []) arns.add(a);

  const all = [...arns];
  const batches: string[][] = [];
  for (let i = 0; i < all.length; i += 100) batches.push(all.slice(i, i + 100));
  const described = await Promise.all(batches.map((b) => reader.describeTasks(b)));
  return {
    tasks: described.flatMap((d) => d.tasks),
    missing: described.flatMap((d) => d.missing),
    calls: { list, describe: batches.length },
  };
}
