/**
 * Serves one session over WebSocket: only a client presenting this task's token may connect, and
 * only once, and only after the agent is running. Client frames go to the agent's stdin; the
 * agent's stdout and stderr go to the client (buffered up to a cap until it connects).
 */
import { createHash, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import type { ChildProcessWithoutNullStreams } from "node:child_process";
import { WebSocketServer, type WebSocket } from "ws";

const MAX_BUFFERED = 1024 * 1024;
const MAX_FRAME = 1024 * 1024;

function digest(s: string): Buffer {
  return createHash("sha256").update(s).digest();
}

function presentedToken(req: IncomingMessage): string | undefined {
  const auth = /^Bearer (\S+)$/.exec(req.headers.authorization ?? "");
  if (auth?.[1]) return auth[1];
  const q = new URL(req.url ?? "/", "http://x").searchParams.get("token");
  return q ?? undefined;
}

function refuse(socket: Socket, status: number, text: string, message: string): void {
  const body = JSON.stringify({ error: message });
  socket.end(
    `HTTP/1.1 ${status} ${text}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
}

export class SessionServer {
  private readonly server: Server;
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: MAX_FRAME });
  private readonly tokenDigest: Buffer;
  private agent?: ChildProcessWithoutNullStreams;
  private client?: WebSocket;
  private used = false;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** Called when the one client has gone: the session cannot be resumed. */
  onClientGone: () => void = () => undefined;
  /** Refused connection attempts, for logs. */
  onRefused: (reason: string) => void = () => undefined;

  constructor(token: string) {
    this.tokenDigest = digest(token);
    this.server = createServer((req, res) => {
      const status = req.url === "/healthz" ? 200 : 404;
      res.writeHead(status, { "content-type": "application/json" });
      res.end(
        JSON.stringify(
          status === 200 ? { session: this.agent ? "running" : "waiting" } : { error: "not found" },
        ),
      );
    });
    this.server.on("upgrade", (req: IncomingMessage, socket: Socket, head: Buffer) =>
      this.upgrade(req, socket, head),
    );
  }

  async listen(host: string, port: number): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(port, host, () => resolve());
    });
    return (this.server.address() as AddressInfo).port;
  }

  /** The agent is running: connections are accepted from now on; its output is kept for the client. */
  attach(agent: ChildProcessWithoutNullStreams): void {
    this.agent = agent;
    const forward = (d: Buffer): void => {
      if (this.client) this.client.send(d);
      else if (this.pendingBytes + d.length <= MAX_BUFFERED) {
        this.pending.push(d);
        this.pendingBytes += d.length;
      }
    };
    agent.stdout.on("data", forward);
    agent.stderr.on("data", forward);
    agent.stdin.on("error", () => undefined);
    agent.once("exit", (code, signal) => {
      this.client?.close(1000, `agent exited (${signal ?? code})`.slice(0, 120));
    });
  }

  async close(): Promise<void> {
    this.client?.terminate();
    this.wss.close();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private upgrade(req: IncomingMessage, socket: Socket, head: Buffer): void {
    const token = presentedToken(req);
    if (!token || !timingSafeEqual(digest(token), this.tokenDigest)) {
      this.onRefused("bad token");
      return refuse(socket, 401, "Unauthorized", "token: not this task's session token");
    }
    if (!this.agent) {
      this.onRefused("no session yet");
      return refuse(socket, 503, "Service Unavailable", "no session is running on this task yet");
    }
    if (this.used) {
      this.onRefused("second client");
      return refuse(
        socket,
        409,
        "Conflict",
        "this session already had its client; it accepts one connection",
      );
    }
    this.used = true;
    this.wss.handleUpgrade(req, socket, head, (ws) => this.connected(ws));
  }

  private connected(ws: WebSocket): void {
    this.client = ws;
    for (const d of this.pending) ws.send(d);
    this.pending = [];
    this.pendingBytes = 0;
    ws.on("message", (data: Buffer | Buffer[] | ArrayBuffer) => {
      const buf = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
      if (this.agent?.stdin.writable) this.agent.stdin.write(buf);
    });
    ws.once("close", () => {
      this.client = undefined;
      this.onClientGone();
    });
    ws.on("error", () => undefined);
  }
}
