/**
 * Claim traffic through the gateway's HTTP API, as session services would send it: claim, hold
 * the session a while, release. The ledger keeps every answer, so a scenario can show that each
 * refusal was a clear one (a status with an `error` message) and that no task was handed out twice.
 */
import { GATEWAY_TOKEN } from "./env.js";
import { sleep } from "./mode.js";

export interface Served {
  claimId: string;
  taskId: string;
  userId: string;
  atMs: number;
}

export interface Ledger {
  /** Claims answered 201. */
  served: Served[];
  /** Answers by HTTP status (0 = the request itself failed: connection refused or reset). */
  byStatus: Record<number, number>;
  /** Answers that were not 201 and carried no `error` message, or were 500s. */
  unclear: { status: number; body: string }[];
  releases: number;
}

export interface Traffic {
  ledger: Ledger;
  stop(): Promise<Ledger>;
}

export interface TrafficOptions {
  gatewayUrl: string;
  /** Concurrent clients. */
  clients: number;
  holdMs: number;
  waitMs: number;
  /** Pause between a client's claims. */
  pauseMs?: number;
  leaseSeconds?: number;
}

async function post(url: string, body: unknown): Promise<{ status: number; text: string }> {
  try {
    const res = await fetch(url, {
      method: "POST",
      headers: { authorization: `Bearer ${GATEWAY_TOKEN}`, "content-type": "application/json" },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(60_000),
    });
    return { status: res.status, text: await res.text() };
  } catch (e) {
    return { status: 0, text: String(e) };
  }
}

async function del(url: string): Promise<number> {
  try {
    const res = await fetch(url, {
      method: "DELETE",
      headers: { authorization: `Bearer ${GATEWAY_TOKEN}` },
      signal: AbortSignal.timeout(10_000),
    });
    await res.text();
    return res.status;
  } catch {
    return 0;
  }
}

/** Is this a clear refusal: a problem (RFC 9457) body whose `detail` says what happened? */
export function clearError(status: number, text: string): boolean {
  if (status === 0 || (status >= 500 && status !== 502 && status !== 503)) return false;
  try {
    const j = JSON.parse(text) as { detail?: unknown };
    return typeof j.detail === "string" && j.detail.length > 0;
  } catch {
    return false;
  }
}

export function startTraffic(o: TrafficOptions): Traffic {
  const ledger: Ledger = { served: [], byStatus: {}, unclear: [], releases: 0 };
  let stopped = false;
  const client = async (n: number): Promise<void> => {
    let i = 0;
    while (!stopped) {
      const userId = `user-${n}-${i++}`;
      const r = await post(`${o.gatewayUrl}/v1/claims`, {
        userId,
        waitMs: o.waitMs,
        leaseSeconds: o.leaseSeconds ?? 30,
      });
      ledger.byStatus[r.status] = (ledger.byStatus[r.status] ?? 0) + 1;
      if (r.status === 201) {
        const j = JSON.parse(r.text) as { claimId: string; taskId: string };
        ledger.served.push({ claimId: j.claimId, taskId: j.taskId, userId, atMs: Date.now() });
        await sleep(o.holdMs);
        // A release refused while Redis is away is retried for ~30 s; the lease is the backstop.
        for (let a = 0; a < 120; a++) {
          const s = await del(`${o.gatewayUrl}/v1/claims/${j.claimId}`);
          if (s === 200) {
            ledger.releases++;
            break;
          }
          await sleep(250);
        }
      } else {
        if (r.status === 0) {
          ledger.unclear.push({ status: 0, body: r.text.slice(0, 200) });
        } else if (!clearError(r.status, r.text)) {
          ledger.unclear.push({ status: r.status, body: r.text.slice(0, 200) });
        }
        await sleep(200);
      }
      await sleep(o.pauseMs ?? 50);
    }
  };
  const all = Promise.all(Array.from({ length: o.clients }, (_, n) => client(n)));
  return {
    ledger,
    async stop() {
      stopped = true;
      await all;
      return ledger;
    },
  };
}
