import { jitter } from "../util/index.js";

export type PassTriggerKind = "event" | "resync" | "start";

/**
 * When the reconciler's passes are resync passes, and whether a refill is due (docs/planner.md,
 * "Events never stand in for the resync"). It knows two times:
 *
 * - `nextResyncAtMs`, a fixed deadline: the loop waits only for what is left of it, and a pass
 *   that starts at or after it runs as a resync, so events arriving faster than the resync
 *   interval cannot push the resync away;
 * - `lastRefillPassAtMs`, the start of the last pass that was free to refill (not event-triggered,
 *   or with `resyncDue`): `resyncDue` tells the planner when a whole interval has gone by without one.
 */
export class PassClock {
  private nextResyncAtMs: number;
  private lastRefillPassAtMs: number | undefined;

  constructor(
    readonly resyncMs: number,
    nowMs: number = Date.now(),
  ) {
    this.nextResyncAtMs = nowMs + jitter(resyncMs, 0.1);
  }

  /** How long the loop may wait for an event before the resync deadline. */
  waitMs(nowMs: number = Date.now()): number {
    return Math.max(0, this.nextResyncAtMs - nowMs);
  }

  /**
   * Called as a pass starts: an event pass at or past the deadline becomes a resync pass; a resync
   * or start pass sets the next deadline. Returns the pass's trigger and its `resyncDue`.
   */
  begin(
    woken: PassTriggerKind,
    nowMs: number = Date.now(),
  ): { trigger: PassTriggerKind; resyncDue: boolean } {
    let trigger = woken;
    if (trigger === "event" && nowMs >= this.nextResyncAtMs) trigger = "resync";
    if (trigger !== "event") this.nextResyncAtMs = nowMs + jitter(this.resyncMs, 0.1);
    const last = this.lastRefillPassAtMs;
    const resyncDue = last === undefined || nowMs - last >= this.resyncMs;
    if (trigger !== "event" || resyncDue) this.lastRefillPassAtMs = nowMs;
    return { trigger, resyncDue };
  }
}
