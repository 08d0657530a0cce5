/**
 * Hears the pool's claim notices (ready / failed / ended) on one pub/sub connection per process
 * and hands each to the local caller waiting for that claim. A notice lost while the connection
 * was down costs nothing but time: the waiter times out and the caller reads the claim's state.
 */
import type { Redis } from "ioredis";
import type { ClaimNotice } from "./types.js";

interface Waiter {
  done: boolean;
  resolve(n: ClaimNotice | undefined): void;
  timer: NodeJS.Timeout;
}

export interface PendingNotice {
  /** The notice, or undefined when none came within the timeout. */
  promise: Promise<ClaimNotice | undefined>;
  cancel(): void;
  /** Starts the clock; waiters are registered before the claim runs so no notice is missed. */
  arm(timeoutMs: number): void;
}

export class ClaimNotices {
  private readonly waiters = new Map<string, Set<Waiter>>();
  private started?: Promise<void>;

  constructor(
    private readonly subscriber: Redis,
    private readonly channel: string,
  ) {}

  start(): Promise<void> {
    this.started ??= (async () => {
      this.subscriber.on("message", (ch: string, raw: string) => {
        if (ch === this.channel) this.deliver(raw);
      });
      await this.subscriber.subscribe(this.channel);
    })();
    return this.started;
  }

  get pending(): number {
    return this.waiters.size;
  }

  /** Registers interest in one claim; call `arm` once the claim's wait budget is known. */
  expect(claimId: string): PendingNotice {
    let resolveFn!: (n: ClaimNotice | undefined) => void;
    const promise = new Promise<ClaimNotice | undefined>((r) => (resolveFn = r));
    const waiter: Waiter = {
      done: false,
      resolve: (n) => {
        if (waiter.done) return;
        waiter.done = true;
        clearTimeout(waiter.timer);
        const set = this.waiters.get(claimId);
        set?.delete(waiter);
        if (set?.size === 0) this.waiters.delete(claimId);
        resolveFn(n);
      },
      timer: setTimeout(() => undefined, 0),
    };
    clearTimeout(waiter.timer);
    const set = this.waiters.get(claimId) ?? new Set<Waiter>();
    set.add(waiter);
    this.waiters.set(claimId, set);
    return {
      promise,
      cancel: () => waiter.resolve(undefined),
      arm: (timeoutMs) => {
        if (waiter.done) return;
        clearTimeout(waiter.timer);
        waiter.timer = setTimeout(() => waiter.resolve(undefined), Math.max(0, timeoutMs));
      },
    };
  }

  close(): void {
    for (const set of [...this.waiters.values()]) for (const w of [...set]) w.resolve(undefined);
  }

  private deliver(raw: string): void {
    let n: ClaimNotice;
    try {
      n = JSON.parse(raw) as ClaimNotice;
    } catch {
      return;
    }
    if (typeof n?.claimId !== "string") return;
    for (const w of [...(this.waiters.get(n.claimId) ?? [])]) w.resolve(n);
  }
}
