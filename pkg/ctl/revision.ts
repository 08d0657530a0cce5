/**
 * Task-definition names as on-call types them. Matching a name against a task's revision is the
 * planner's rule (pkg/plan), re-exported here so `ctl drain --revision` and the planner's drain
 * can never disagree on which tasks are meant.
 */
import { TASK_DEFINITION } from "../config/index.js";

export { revisionMatches } from "../plan/index.js";

/** family, family:revision or a task definition ARN: the shape RunTask accepts. */
export function isRevisionName(name: string): boolean {
  return TASK_DEFINITION.test(name);
}
