import { setTimeout as delay } from "node:timers/promises";

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return delay(ms, undefined, signal ? { signal } : undefined);
}

/** `ms` spread uniformly by ±fraction, so many processes do not tick in lockstep. */
export function jitter(ms: number, fraction = 0.2): number {
  return Math.max(0, ms * (1 - fraction + Math.random() * 2 * fraction));
}
