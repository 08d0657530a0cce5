/**
 * Which tasks a task-definition name refers to, as on-call types it (`agent`, `agent:7`, or the
 * full ARN) against the ARNs tasks record. The planner's drain and `warmpool ctl` share this one
 * rule, so `ctl drain --revision agent:7` and the planner agree on which tasks go.
 */

/**
 * True when `taskRevision` (an ARN, or whatever the task recorded) is what `name` names:
 * an ARN matches itself; `family:N` matches `…:task-definition/family:N`; a bare `family`
 * matches every revision of that family.
 */
export function revisionMatches(name: string, taskRevision: string | undefined): boolean {
  if (!taskRevision) return false;
  if (name === taskRevision) return true;
  const tail = taskRevision.includes(":task-definition/")
    ? taskRevision.slice(taskRevision.indexOf(":task-definition/") + ":task-definition/".length)
    : taskRevision;
  if (name.includes(":")) return tail === name;
  return tail === name || tail.startsWith(`${name}:`);
}
