/**
 * What a pass holds back from the plan before it acts, whatever the plan says (belt and braces
 * around the pure planner): nothing at all on a partial observation; no launch and no
 * replacement without a revision to launch; nothing the task cache cannot vouch for; no stop of
 * an ARN ECS did not describe as the pool's; fewer launches for those the snapshot does not show.
 */
import type { CacheObserver, CacheView } from "../observe/index.js";
import type { Action, Observed } from "../plan/index.js";

export interface GuardInput {
  observed: Observed;
  /** The revision this pass launches; undefined = none. */
  revision: string | undefined;
  /** Cache mode: the pass's view and the observer that guards it. */
  view?: CacheView;
  observer?: CacheObserver;
  /** Launches the snapshot does not show (fast refills, RunTask in flight): launch that many fewer. */
  unseen: number;
}

/** The actions to carry out, and the ARNs ECS (or the cache) vouches for as this pool's. */
export function guardActions(
  planned: readonly Action[],
  g: GuardInput,
): { actions: Action[]; arns: Map<string, string> } {
  const { observed, view } = g;
  // On a partial observation nothing is acted on (no launch, stop or forget), whatever the plan
  // says (test/chaos/partial-observation.test.ts).
  let actions = observed.complete ? [...planned] : [];
  // No revision to launch: nothing is launched, and nothing idle is replaced (its replacement
  // could not start).
  if (g.revision === undefined) actions = actions.filter((a) => a.kind !== "run" && !replaces(a));
  if (view && g.observer) actions = g.observer.guard(actions, view);
  // Only ARNs ECS (or the cache) vouches for as this pool's: a record's own ARN is never
  // stopped on its word alone (it could name another service's task).
  const arns = new Map<string, string>();
  for (const t of observed.ecs) if (!view?.placeholders.has(t.taskId)) arns.set(t.taskId, t.taskArn);
  actions = onlyVouchedArns(actions, arns);
  if (g.unseen > 0) actions = fewerRuns(actions, g.unseen);
  return { actions, arns };
}

/**
 * A stop goes only to the ARN ECS described as this pool's task (issue: a record holding another
 * service's ARN must never plan a stop): a stop of any other ARN is dropped, a cordon-stop keeps its
 * cordon (never a claimed task) and loses its ARN, so the task is stopped once ECS vouches for it.
 */
function onlyVouchedArns(actions: Action[], arns: Map<string, string>): Action[] {
  return actions.flatMap((a): Action[] => {
    if (a.kind === "stop") return arns.get(a.taskId) === a.taskArn ? [a] : [];
    if (a.kind === "cordon-stop" && a.taskArn !== undefined && arns.get(a.taskId) !== a.taskArn)
      return [{ kind: "cordon-stop", taskId: a.taskId, reason: a.reason }];
    return [a];
  });
}

/** The run actions less `n` tasks, taken from the last (the surge before the base refill). */
function fewerRuns(actions: Action[], n: number): Action[] {
  const out = [...actions];
  for (let i = out.length - 1; i >= 0 && n > 0; i--) {
    const a = out[i]!;
    if (a.kind !== "run") continue;
    const cut = Math.min(n, a.count);
    n -= cut;
    if (cut === a.count) out.splice(i, 1);
    else out[i] = { ...a, count: a.count - cut };
  }
  return out;
}

/** A cordon-stop of an idle task that a new one is meant to replace (rollout, drain). */
function replaces(a: Action): boolean {
  return a.kind === "cordon-stop" && (a.reason === "old-revision" || a.reason === "drain");
}
