/**
 * How long the chaos scenarios run. The default test command runs a short version of each (the
 * whole folder well under two minutes on a 2-core machine); `npm run test:chaos` sets
 * WARMPOOL_CHAOS=full for the long one.
 */
export const FULL = process.env.WARMPOOL_CHAOS === "full";

/** The short value in the default suite, the long one under `npm run test:chaos`. */
export const pick = <T>(short: T, full: T): T => (FULL ? full : short);

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** One line of figures per scenario, so docs/reliability.md can quote a run. */
export function figures(scenario: string, f: Record<string, unknown>): void {
  const parts = Object.entries(f).map(([k, v]) => `${k}=${typeof v === "number" ? v : JSON.stringify(v)}`);
  console.log(`[chaos] ${scenario} (${FULL ? "full" : "short"}): ${parts.join(" ")}`);
}
