import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Registry } from "prom-client";

export interface HealthChecks {
  /** Liveness: the process loop is not wedged. */
  live: () => boolean;
  /** Readiness: every dependency answers; the string says what does not. */
  ready: () => Promise<{ ok: boolean; detail: Record<string, unknown> }>;
  /** Extra JSON endpoint (the status snapshot). */
  status?: () => unknown;
}

export interface OpsServer {
  server: Server;
  port: number;
  url: string;
  close(): Promise<void>;
}

/** The operations port: `/metrics` (Prometheus text), `/healthz`, `/readyz`, `/status`. */
export async function startOpsServer(
  registry: Registry,
  checks: HealthChecks,
  port: number,
  host = "0.0.0.0",
): Promise<OpsServer> {
  const server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    const json = (code: number, body: unknown): void => {
      res.writeHead(code, { "content-type": "application/json" });
      res.end(JSON.stringify(body));
    };
    void (async () => {
      try {
        if (req.method !== "GET" && req.method !== "HEAD") return json(405, { error: "method not allowed" });
        if (path === "/metrics") {
          const text = await registry.metrics();
          res.writeHead(200, { "content-type": registry.contentType });
          return res.end(text);
        }
        if (path === "/healthz") return json(checks.live() ? 200 : 503, { ok: checks.live() });
        if (path === "/readyz") {
          const r = await checks.ready();
          return json(r.ok ? 200 : 503, r);
        }
        if (path === "/status" && checks.status) return json(200, checks.status());
        return json(404, {
          error: `no route ${path}`,
          routes: ["/metrics", "/healthz", "/readyz", "/status"],
        });
      } catch (err) {
        json(500, { error: String(err) });
      }
    })();
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve());
  });
  const actual = (server.address() as AddressInfo).port;
  return {
    server,
    port: actual,
    url: `http://127.0.0.1:${actual}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
