export {
  TaskCache,
  type CacheEntry,
  type CacheSource,
  type DescribeAnswer,
  type EventOutcome,
} from "./task-cache.js";
export { parseTaskStateChange, clusterMatches, TASK_STATE_CHANGE, type TaskStateChange } from "./envelope.js";
export {
  FeedConsumer,
  type FeedOptions,
  type FeedOutcome,
  type FeedState,
  type FeedStatus,
  type FeedTarget,
} from "./feed.js";
export { FeedFanout, type FanoutOptions, type FeedHandle } from "./fanout.js";
export {
  CacheObserver,
  type CacheObserverOptions,
  type CacheView,
  type ObserveStatus,
  type RelistStatus,
} from "./observer.js";
export { nextRelistDelayMs, relistPhase, RELIST_JITTER } from "./relist-schedule.js";
export { RecordCache, type RecordCacheOptions, type RecordRead } from "./record-cache.js";
