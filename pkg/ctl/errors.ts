/**
 * Exit codes of `warmpool ctl` (docs/ctl.md). A probe can tell "the pool is unhealthy" (10–13)
 * from "ctl could not ask" (3) and from "you asked for something invalid" (1, 2).
 */
export const EXIT = {
  ok: 0,
  /** Invalid input or a refused operation: nothing was written. */
  refused: 1,
  /** Usage error (unknown flag, missing argument): yargs reports it. */
  usage: 2,
  /** Redis unreachable, timed out or refused the connection (auth, TLS). */
  unreachable: 3,
  /** A concurrent change to the desired state: ours was refused, re-read and retry. */
  conflict: 4,
  /** Redis is read-only or failing over (READONLY, LOADING …): nothing was written, retry shortly. */
  failover: 5,
  /** status: no reconciler holds the leader lease. */
  noLeader: 10,
  /** status: the leader has not published a pass for longer than --stale-after. */
  stalePass: 11,
  /** status: the `config` key holds an invalid desired state (the last good one is in force). */
  invalidDesired: 12,
  /** status: no warm task and claims are waiting. */
  exhausted: 13,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** An expected failure with a message for on-call and the exit code it maps to. */
export class CtlError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCode = EXIT.refused,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "CtlError";
  }
}
