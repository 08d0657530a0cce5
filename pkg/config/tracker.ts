/**
 * DesiredStateTracker knows which desired state is in force across passes and what changed
 * since the last read, so the reconciler can follow the "said once" rules without bookkeeping:
 * a valid value is in force; a missing key means the defaults; an invalid value leaves the last
 * good one in force (DESIGN §5). It is pure: feed it ConfigStore.read() results.
 */
import type { ConfigRead } from "./store.js";
import { DEFAULT_DESIRED, type DesiredState } from "./types.js";
import { formatConfigErrors, type ConfigError } from "./validate.js";

export interface DesiredUpdate {
  /** The desired state in force from this read on. */
  desired: DesiredState;
  status: "valid" | "missing" | "invalid";
  /** False only while the key holds an invalid value (`warmpool_config_valid`). */
  valid: boolean;
  /** `desired` differs from the previous read's (true on the first read): the planner's `desiredChanged`. */
  changed: boolean;
  /** The key's raw value (or its absence) differs from the previous read: log / record / count once. */
  rawChanged: boolean;
  /** The key is missing and was not on the previous read (or this is the first read): say "defaults" once. */
  firstMissing: boolean;
  /** When invalid: every problem, and the same as one log line. */
  errors: ConfigError[];
  rejection?: string;
  /** Where `desired` came from. */
  source: "config" | "last-good" | "defaults";
  raw?: string;
}

export class DesiredStateTracker {
  private lastGood: DesiredState | undefined;
  private current: DesiredState | undefined;
  /** undefined: never read; null: missing. */
  private lastRaw: string | null | undefined;

  constructor(private readonly defaults: DesiredState = DEFAULT_DESIRED) {}

  /** A last good value from elsewhere (ConfigStore.lastAccepted on a cold start); never overrides one seen. */
  seed(lastGood: DesiredState): void {
    this.lastGood ??= lastGood;
  }

  get hasLastGood(): boolean {
    return this.lastGood !== undefined;
  }

  /** The desired state in force (defaults before the first read). */
  get desired(): DesiredState {
    return this.current ?? this.defaults;
  }

  update(read: ConfigRead): DesiredUpdate {
    const raw = read.state === "missing" ? null : read.raw;
    const rawChanged = raw !== this.lastRaw;
    const firstMissing = read.state === "missing" && this.lastRaw !== null;
    let desired: DesiredState;
    let source: DesiredUpdate["source"];
    let errors: ConfigError[] = [];
    if (read.state === "valid") {
      desired = read.value;
      source = "config";
      this.lastGood = desired;
    } else if (read.state === "missing") {
      // Deleting the key is an operator's act: the defaults are then what is in force (and good).
      desired = this.defaults;
      source = "defaults";
      this.lastGood = desired;
    } else {
      errors = read.errors;
      desired = this.lastGood ?? this.defaults;
      source = this.lastGood ? "last-good" : "defaults";
    }
    const changed = this.current === undefined || canonical(desired) !== canonical(this.current);
    this.current = desired;
    this.lastRaw = raw;
    const u: DesiredUpdate = {
      desired,
      status: read.state,
      valid: read.state !== "invalid",
      changed,
      rawChanged,
      firstMissing,
      errors,
      source,
    };
    if (raw !== null) u.raw = raw;
    if (read.state === "invalid") u.rejection = formatConfigErrors(errors);
    return u;
  }
}

/** JSON with sorted keys: equal values, equal strings. */
function canonical(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) =>
    x && typeof x === "object" && !Array.isArray(x)
      ? Object.fromEntries(Object.entries(x).sort(([a], [b]) => (a < b ? -1 : 1)))
      : x,
  );
}
