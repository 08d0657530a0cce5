/**
 * SetInstanceProtection (autoscaling/2011-01-01): sets ProtectedFromScaleIn on up to 50 of a
 * group's instances. Every id is checked before any changes, so a bad call changes nothing:
 *  - `AutoScalingGroupName`, `InstanceIds` (1–50 ids of at most 19 characters) and
 *    `ProtectedFromScaleIn` are required (`ValidationError`; more than 50 ids: `LimitExceeded`);
 *  - an id not in the group, in its warm pool (the API refuses warm-pool instances), or already
 *    terminating answers `ValidationError` naming it.
 * Removing protection lets a scale-in that was waiting for an unprotected instance go on.
 * `ResourceContention` (HTTP 500, in the model's errors) comes only from an injected fault.
 */
import { AwsError } from "../errors.js";
import type { AutoScalingEngine } from "./engine.js";
import { bool, required, validation } from "./params.js";
import type { GroupRecord } from "./types.js";
import { memberList, type XmlNode } from "./xml.js";

/** The API's limit of instance ids per call. */
export const MAX_PROTECTION_IDS = 50;

export function setInstanceProtection(
  engine: AutoScalingEngine,
  group: (name: string) => GroupRecord,
  p: URLSearchParams,
): XmlNode {
  const name = required(p, "AutoScalingGroupName");
  const ids = memberList(p, "InstanceIds");
  if (ids.length === 0) required(p, "InstanceIds");
  const protect = bool(p, "ProtectedFromScaleIn");
  if (protect === undefined) required(p, "ProtectedFromScaleIn");
  if (ids.length > MAX_PROTECTION_IDS)
    throw new AwsError(
      "LimitExceeded",
      `InstanceIds: at most ${MAX_PROTECTION_IDS} instance ids per call (got ${ids.length})`,
    );
  for (const id of ids)
    if (id.length < 1 || id.length > 19)
      throw validation(`InstanceIds: '${id}' must be 1 to 19 characters long`);
  const g = group(name);
  const targets = ids.map((id) => {
    const i = g.instances.find((x) => x.instanceId === id);
    if (!i) throw validation(`The instance ${id} is not part of Auto Scaling group ${g.name}.`);
    if (i.warm)
      throw validation(
        `The instance ${id} is in the warm pool of Auto Scaling group ${g.name}; SetInstanceProtection cannot be called on warm pool instances.`,
      );
    if (i.lifecycleState !== "Pending" && i.lifecycleState !== "InService")
      throw validation(`The instance ${id} is ${i.lifecycleState}; its scale-in protection cannot change.`);
    return i;
  });
  for (const i of targets) i.protectedFromScaleIn = protect as boolean;
  engine.reconcile(g);
  return {};
}
