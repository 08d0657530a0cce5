export * from "./types.js";
export { planCapacity } from "./plan.js";
export { planScaleIn, type ScaleIn } from "./scale-in.js";
export { tasksPerInstance, slots, type TasksPerInstance } from "./tasks-per-instance.js";
export {
  isCapacityReason,
  isResourceSizeReason,
  isSlotReason,
  capacityReasonOfError,
  NO_CONTAINER_INSTANCE,
} from "./failures.js";
