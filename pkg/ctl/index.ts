/** `warmpool ctl`: the on-call CLI's logic and rendering (cmd/ctl.ts only declares the flags). */
export { EXIT, CtlError, type ExitCode } from "./errors.js";
export { processIO, style, type CtlIO, type OutputFormat } from "./io.js";
export { connectRedis, checkRedisUrl, DEFAULT_CONNECT_TIMEOUT_MS } from "./connect.js";
export { redactUrl } from "../redis/index.js";
export { createContext, operator, type CtlContext } from "./context.js";
export {
  statusCommand,
  watchStatus,
  allPoolsStatus,
  watchAllPools,
  type WatchOptions,
} from "./status-cmd.js";
export { gatherAllPools, renderAllPools, type AllPoolsReport, type PoolLine } from "./status-all.js";
export {
  gatherStatus,
  assessHealth,
  DEFAULT_STALE_AFTER_MS,
  type StatusReport,
  type Health,
} from "./status-report.js";
export { renderStatus } from "./status-render.js";
export { configGet, configSet, configApply, configValidate, configEdit } from "./config-cmd.js";
export { configHistory, configRollback } from "./config-history.js";
export type { WriteFlags } from "./config-write.js";
export { setPaused } from "./pause.js";
export { tasksCommand, TASK_STATES } from "./tasks.js";
export { claimsList, claimsRelease } from "./claims.js";
export { drainCommand, cancelDrain } from "./drain.js";
export { readDrainRequest, drainMatches, type DrainRequest } from "./drain-request.js";
export { revisionMatches, isRevisionName } from "./revision.js";
export { runWithPool, runWithRedis, runLocal, type GlobalFlags } from "./run.js";
export { poolCreate, poolList, poolDelete, type PoolDeleteFlags } from "./pool-cmd.js";
