/**
 * Knows which task this bridge runs in: from ECS task metadata v4 (`$ECS_CONTAINER_METADATA_URI_V4`
 * and `…/task`, in AWS and in the local emulator alike) or from an explicit ARN (tests, manual runs).
 */
export interface TaskIdentity {
  taskArn: string;
  /** Last segment of the ARN: the pool's key for the task. */
  taskId: string;
  /** Task definition ARN, when metadata told us. */
  revision?: string;
  /** The task's own IPv4 address (awsvpc), when metadata told us. */
  address?: string;
}

const TASK_ARN = /^arn:aws[a-z-]*:ecs:[a-z0-9-]+:\d{12}:task\/(?:[A-Za-z0-9_-]+\/)?([A-Za-z0-9]{1,64})$/;

export function taskIdOf(taskArn: string): string {
  const m = TASK_ARN.exec(taskArn);
  if (!m?.[1]) throw new Error(`task ARN ${JSON.stringify(taskArn)} is not an ECS task ARN`);
  return m[1];
}

async function getJson(url: string): Promise<Record<string, unknown>> {
  const res = await fetch(url, { signal: AbortSignal.timeout(5_000) });
  if (!res.ok) throw new Error(`GET ${url}: HTTP ${res.status}`);
  return (await res.json()) as Record<string, unknown>;
}

export async function resolveIdentity(opts: {
  taskArn?: string;
  metadataUri?: string;
}): Promise<TaskIdentity> {
  if (opts.taskArn) return { taskArn: opts.taskArn, taskId: taskIdOf(opts.taskArn) };
  if (!opts.metadataUri) {
    throw new Error("task identity: neither --task-arn nor ECS_CONTAINER_METADATA_URI_V4 is set");
  }
  let task: Record<string, unknown>;
  let container: Record<string, unknown>;
  try {
    task = await getJson(`${opts.metadataUri}/task`);
    container = await getJson(opts.metadataUri).catch(() => ({}));
  } catch (e) {
    throw new Error(`reading ECS task metadata from ${opts.metadataUri}`, { cause: e });
  }
  const taskArn = String(task.TaskARN ?? "");
  const id: TaskIdentity = { taskArn, taskId: taskIdOf(taskArn) };
  if (typeof task.Family === "string" && task.Revision !== undefined) {
    id.revision = taskArn.replace(/:task\/.*$/, `:task-definition/${task.Family}:${String(task.Revision)}`);
  }
  const nets = container.Networks as { IPv4Addresses?: string[] }[] | undefined;
  const ip = nets?.[0]?.IPv4Addresses?.[0];
  if (ip) id.address = ip;
  return id;
}
