/**
 * Faults on demand. A fault is active while it has calls left (`count`) and time left
 * (`durationMs`); when active it fires with `probability` (default 1). The same shapes are
 * accepted programmatically and as JSON over `POST /_emulator/faults`.
 */
import { AwsError, throttled } from "./errors.js";

/** Fargate's answer when a zone has no capacity for the task. */
export const CAPACITY_UNAVAILABLE_REASON =
  "Capacity is unavailable at this time. Please try again later or in a different availability zone";

interface Activation {
  /** Fires on this many occasions, then expires. */
  count?: number;
  /** Chance of firing on each occasion while active (default 1). */
  probability?: number;
  /** Active for this long after being set. */
  durationMs?: number;
}

export type Fault =
  /** An operation answers an error (default ServerException, HTTP 500). `op` omitted = every op. */
  | ({ kind: "error"; op?: string; code?: string; status?: number; message?: string } & Activation)
  /** A throttling storm: calls answer ThrottlingException regardless of the buckets. */
  | ({ kind: "throttle"; op?: string } & Activation)
  /** RunTask places nothing and reports a failure per task instead. */
  | ({
      kind: "runTaskFailure";
      reason: "RESOURCE:CPU" | "RESOURCE:MEMORY" | "CAPACITY_UNAVAILABLE";
    } & Activation)
  /** Launched tasks die before RUNNING with stopCode TaskFailedToStart. */
  | ({ kind: "failToStart"; reason?: string } & Activation)
  /** Responses are held back `delayMs` (default one response); `hang: true` never answers. */
  | ({ kind: "slow"; op?: string; delayMs?: number; hang?: boolean } & Activation)
  /**
   * The operation runs, then the connection is reset (TCP RST) instead of answering: the
   * client sees ECONNRESET for a call that did happen (default one response).
   */
  | ({ kind: "dropAnswer"; op?: string } & Activation)
  /** New tasks show in ListTasks only `ms` after launch. */
  | { kind: "listLag"; ms: number }
  /**
   * SQS calls (`op` omitted = every SQS operation) fail: `mode: "error"` answers 503
   * ServiceUnavailable (or `status`), `mode: "reset"` drops the connection without an answer.
   * Events keep arriving in the queue meanwhile, as EventBridge keeps delivering.
   */
  | ({ kind: "queueUnavailable"; op?: string; mode?: "error" | "reset"; status?: number } & Activation)
  /** Task state change events are lost before reaching the queue (`lastStatus` narrows which). */
  | ({ kind: "eventDrop"; lastStatus?: string } & Activation)
  /** Events reach the queue twice. */
  | ({ kind: "eventDuplicate"; lastStatus?: string } & Activation)
  /** An event is held back until the task's next event has been delivered (or `holdMs`, default 5 s). */
  | ({ kind: "eventReorder"; lastStatus?: string; holdMs?: number } & Activation)
  /** Events reach the queue `delayMs` late. */
  | ({ kind: "eventDelay"; lastStatus?: string; delayMs: number } & Activation);

export type FaultKind = Fault["kind"];

interface Entry {
  id: string;
  fault: Fault;
  until: number;
  left: number;
  fired: number;
}

export interface FaultView {
  id: string;
  fault: Fault;
  fired: number;
  active: boolean;
}

const KINDS: FaultKind[] = [
  "error",
  "throttle",
  "runTaskFailure",
  "failToStart",
  "slow",
  "dropAnswer",
  "listLag",
  "queueUnavailable",
  "eventDrop",
  "eventDuplicate",
  "eventReorder",
  "eventDelay",
];
const MODES = ["error", "reset"];
const REASONS = ["RESOURCE:CPU", "RESOURCE:MEMORY", "CAPACITY_UNAVAILABLE"];

/** Checks an untrusted fault description (e.g. from HTTP), naming the field and the rule. */
export function parseFault(input: unknown): Fault {
  if (typeof input !== "object" || input === null) throw new Error("fault must be a JSON object");
  const f = input as Record<string, unknown>;
  if (!KINDS.includes(f.kind as FaultKind)) throw new Error(`fault.kind must be one of ${KINDS.join(", ")}`);
  const num = (k: string, min: number, max = Infinity): void => {
    const v = f[k];
    if (v !== undefined && (typeof v !== "number" || !(v >= min && v <= max)))
      throw new Error(`fault.${k} must be a number in [${min}, ${max}]`);
  };
  num("count", 0);
  num("probability", 0, 1);
  num("durationMs", 0);
  num("delayMs", 0);
  num("status", 400, 599);
  num("holdMs", 0);
  if (f.kind === "eventDelay" && (typeof f.delayMs !== "number" || !(f.delayMs >= 0)))
    throw new Error("fault.delayMs must be a number ≥ 0");
  if (f.mode !== undefined && !MODES.includes(f.mode as string))
    throw new Error(`fault.mode must be one of ${MODES.join(", ")}`);
  if (f.kind === "listLag") {
    if (typeof f.ms !== "number" || f.ms < 0) throw new Error("fault.ms must be a number ≥ 0");
  }
  if (f.kind === "runTaskFailure" && !REASONS.includes(f.reason as string))
    throw new Error(`fault.reason must be one of ${REASONS.join(", ")}`);
  for (const k of ["op", "code", "message", "lastStatus"])
    if (f[k] !== undefined && typeof f[k] !== "string") throw new Error(`fault.${k} must be a string`);
  return f as unknown as Fault;
}

export class FaultBook {
  private entries: Entry[] = [];
  private nextId = 1;

  constructor(
    private readonly random: () => number,
    private readonly now: () => number = Date.now,
  ) {}

  add(fault: Fault): string {
    const f = parseFault(fault);
    const id = `f${this.nextId++}`;
    const a = f as Activation;
    const defaultCount = f.kind === "slow" || f.kind === "dropAnswer" ? 1 : Infinity;
    this.entries.push({
      id,
      fault: f,
      until: a.durationMs !== undefined ? this.now() + a.durationMs : Infinity,
      left: a.count ?? defaultCount,
      fired: 0,
    });
    return id;
  }

  clear(id?: string): void {
    this.entries = id ? this.entries.filter((e) => e.id !== id) : [];
  }

  list(): FaultView[] {
    const t = this.now();
    return this.entries.map((e) => ({
      id: e.id,
      fault: e.fault,
      fired: e.fired,
      active: e.left > 0 && t < e.until,
    }));
  }

  /** The first active fault of a kind that fires now (consuming one of its occasions). */
  private fire<K extends FaultKind>(
    kind: K,
    op?: string,
    lastStatus?: string,
  ): Extract<Fault, { kind: K }> | undefined {
    const t = this.now();
    for (const e of this.entries) {
      if (e.fault.kind !== kind || e.left <= 0 || t >= e.until) continue;
      const fop = (e.fault as { op?: string }).op;
      if (fop !== undefined && op !== undefined && fop !== op) continue;
      const fst = (e.fault as { lastStatus?: string }).lastStatus;
      if (fst !== undefined && lastStatus !== undefined && fst !== lastStatus) continue;
      const p = (e.fault as Activation).probability ?? 1;
      if (p < 1 && this.random() >= p) continue;
      e.left -= 1;
      e.fired += 1;
      return e.fault as Extract<Fault, { kind: K }>;
    }
    return undefined;
  }

  /** Before an operation runs: an injected error or throttle, and how long to hold the answer. */
  beforeCall(op: string): { error?: AwsError; delayMs?: number; hang?: boolean; reset?: boolean } {
    const out: { error?: AwsError; delayMs?: number; hang?: boolean; reset?: boolean } = {};
    const slow = this.fire("slow", op);
    if (slow) {
      if (slow.hang) out.hang = true;
      else out.delayMs = slow.delayMs ?? 30_000;
    }
    if (this.fire("dropAnswer", op)) out.reset = true;
    if (this.fire("throttle", op)) out.error = throttled();
    else {
      const err = this.fire("error", op);
      if (err) {
        const code = err.code ?? "ServerException";
        const status = err.status ?? (code === "ServerException" ? 500 : 400);
        out.error = new AwsError(code, err.message ?? "Service Unavailable. Please try again later.", status);
      }
    }
    return out;
  }

  /** For one task of a RunTask: the placement failure reason to report instead, if any. */
  placementFailure(): string | undefined {
    const f = this.fire("runTaskFailure");
    if (!f) return undefined;
    return f.reason === "CAPACITY_UNAVAILABLE" ? CAPACITY_UNAVAILABLE_REASON : f.reason;
  }

  /** For one launched task: the stopped reason if it must die before RUNNING. */
  failToStart(): string | undefined {
    const f = this.fire("failToStart");
    if (!f) return undefined;
    return (
      f.reason ??
      "CannotPullContainerError: pull image manifest has been retried 1 time(s): failed to resolve ref"
    );
  }

  /** The ListTasks lag a fault imposes now, if any (the largest active one). */
  listLagMs(): number | undefined {
    const t = this.now();
    let lag: number | undefined;
    for (const e of this.entries)
      if (e.fault.kind === "listLag" && t < e.until) lag = Math.max(lag ?? 0, e.fault.ms);
    return lag;
  }

  /** Before an SQS operation: the queue is unavailable (an error to answer, or a reset). */
  queueUnavailable(op: string): { status: number; reset: boolean } | undefined {
    const f = this.fire("queueUnavailable", op);
    if (!f) return undefined;
    return { status: f.status ?? 503, reset: f.mode === "reset" };
  }

  /** What befalls one event on its way to a queue. */
  eventFate(lastStatus: string): { drop: boolean; duplicate: boolean; delayMs?: number; holdMs?: number } {
    if (this.fire("eventDrop", undefined, lastStatus)) return { drop: true, duplicate: false };
    const duplicate = !!this.fire("eventDuplicate", undefined, lastStatus);
    const delay = this.fire("eventDelay", undefined, lastStatus);
    const reorder = this.fire("eventReorder", undefined, lastStatus);
    return {
      drop: false,
      duplicate,
      delayMs: delay?.delayMs,
      holdMs: reorder ? (reorder.holdMs ?? 5_000) : undefined,
    };
  }
}
