export {
  TaskCache,
  type CacheEntry,
  type CacheSource,
  type DescribeAnswer,
  type EventOutcome,
} from "./task-cache.js";
export { parseTaskStateChange, clusterMatches, TASK_STATE_CHANGE, type TaskStateChange } from "./envelope.js";
export { FeedConsumer, type FeedOptions, type FeedOutcome, type FeedState, type FeedStatus } from "./feed.js";
export {
  CacheObserver,
  type CacheObserverOptions,
  type CacheView,
  type ObserveStatus,
  type RelistStatus,
} from "./observer.js";
