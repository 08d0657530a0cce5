/**
 * DesiredStateSource is what the reconciler reads once per pass: the store's read, the tracker's
 * verdict, and the history kept honest — a value found in the key (a plain `SET` by on-call) is
 * recorded as accepted or rejected once, not once per pass; a cold start with an invalid key
 * falls back to the newest accepted value in the history rather than to the defaults.
 */
import type { ConfigStore } from "./store.js";
import { DesiredStateTracker, type DesiredUpdate } from "./tracker.js";
import { DEFAULT_DESIRED, type DesiredState } from "./types.js";
import type { ConfigError } from "./validate.js";

export interface DesiredStateSourceOptions {
  /** Who observes (the reconciler's holder id), for the history's `why`. */
  observer?: string;
  defaults?: DesiredState;
  /** Append to `config:history` what the key held (the leader does; a read-only viewer does not). */
  record?: boolean;
  /**
   * Checks a schema-valid value against the world (the reconciler: does ECS have its
   * taskDefinition?). Errors make the value invalid like a schema error: the last good one stays in
   * force, and the rejection is logged, counted and recorded. Called once per distinct value; a
   * throw (ECS unreachable) accepts the value for now and asks again on the next read.
   */
  check?: (d: DesiredState) => Promise<ConfigError[]>;
}

export class DesiredStateSource {
  readonly tracker: DesiredStateTracker;
  private recordedRaw: string | null | undefined;
  private seeded = false;
  private checked: { raw: string; errors: ConfigError[] } | undefined;

  constructor(
    private readonly store: ConfigStore,
    private readonly opts: DesiredStateSourceOptions = {},
  ) {
    this.tracker = new DesiredStateTracker(opts.defaults ?? DEFAULT_DESIRED);
  }

  async read(): Promise<DesiredUpdate> {
    let r = await this.store.read();
    if (r.state === "valid" && this.opts.check) {
      if (this.checked?.raw !== r.raw) {
        try {
          this.checked = { raw: r.raw, errors: await this.opts.check(r.value) };
        } catch {
          this.checked = undefined;
        }
      }
      if (this.checked && this.checked.errors.length > 0)
        r = { state: "invalid", raw: r.raw, errors: this.checked.errors };
    }
    if (r.state === "invalid" && !this.tracker.hasLastGood && !this.seeded) {
      this.seeded = true;
      const last = await this.store.lastAccepted();
      if (last) this.tracker.seed(last.value);
    }
    const raw = r.state === "missing" ? null : r.raw;
    if ((this.opts.record ?? true) && raw !== null && raw !== this.recordedRaw) {
      const by = `observed by ${this.opts.observer ?? "the reconciler"}`;
      if (r.state === "invalid") {
        await this.store.recordRejection(r.raw, r.errors, { why: `${by}; the last good one stays in force` });
      } else if (r.state === "valid") {
        const extra = typeof this.recordedRaw === "string" ? { before: this.recordedRaw } : {};
        await this.store.recordAccepted(r.raw, "unknown (direct write to the key)", by, extra);
      }
    }
    this.recordedRaw = raw;
    return this.tracker.update(r);
  }
}
