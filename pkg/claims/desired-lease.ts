/**
 * The pool's default lease from the desired state (`config` key, `leaseSeconds`, DESIGN §5), so
 * on-call's setting applies to claims that name no lease. Read in the background at most every
 * `refreshMs`; a claim never waits for it. A missing or invalid desired state keeps the last good
 * value (or the flag default until there is one), as the reconciler does.
 */
import type { Redis } from "ioredis";
import { parseDesiredState } from "../config/index.js";

export class DesiredLease {
  private seconds?: number;
  private fetchedAt = 0;
  private inflight?: Promise<void>;

  constructor(
    private readonly redis: Redis,
    private readonly configKey: string,
    private readonly refreshMs = 5_000,
  ) {}

  /** The last good desired `leaseSeconds`, or undefined; starts a refresh when stale. */
  current(): number | undefined {
    if (Date.now() - this.fetchedAt > this.refreshMs) void this.refresh();
    return this.seconds;
  }

  refresh(): Promise<void> {
    this.inflight ??= (async () => {
      try {
        const raw = await this.redis.get(this.configKey);
        if (raw !== null) {
          const r = parseDesiredState(raw);
          if (r.ok) this.seconds = r.value.leaseSeconds;
        }
      } catch {
        // Redis trouble: keep the last good value; the claim itself will report the outage.
      } finally {
        this.fetchedAt = Date.now();
        this.inflight = undefined;
      }
    })();
    return this.inflight;
  }
}
