/**
 * The HTTP front door. It tells the protocols apart (AWS JSON 1.1 by `X-Amz-Target`, AWS Query
 * by a form body with `Action=`, the metadata endpoint under /v4/, control under /_emulator/),
 * applies faults and token buckets before an operation runs, counts every call's outcome, and
 * answers errors in each protocol's shape. SigV4 signatures are accepted without checking.
 *
 * A `slow` fault runs the operation and then holds its answer, so a client that times out and
 * retries sees the effect of its first call (a RunTask that launched although it "failed"); a
 * `dropAnswer` fault runs it and then resets the connection, so the client sees ECONNRESET.
 */
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Socket } from "node:net";
import type { Control } from "./control.js";
import { parseFault } from "./faults.js";
import { AwsError, serializationError, throttled } from "./errors.js";
import type { EcsContext, EcsHandler } from "./ecs-context.js";
import { metadataFor } from "./metadata.js";
import type { TokenBucket } from "./token-bucket.js";
import { SQS_TARGET_PREFIX, type SqsHandler } from "./sqs/api.js";
import { isSqsQuery, serveSqs, type SqsHttpDeps } from "./sqs/http.js";
import type { SqsService } from "./sqs/service.js";

export const ECS_TARGET_PREFIX = "AmazonEC2ContainerServiceV20141113.";

/** An AWS Query (form-encoded) service mounted on the same server, e.g. Auto Scaling. */
export interface QueryService {
  /** Answers an action with an XML document, or throws AwsError. */
  handle(action: string, params: URLSearchParams): string;
  /** Wraps an error as the service's XML error document. */
  errorXml(err: AwsError, requestId: string): string;
  has(action: string): boolean;
  bucketFor?(action: string): TokenBucket | undefined;
}

export interface ServerParts {
  ecs: EcsContext;
  handlers: Record<string, EcsHandler>;
  /** The token bucket an ECS operation draws from, if any. */
  bucketFor(op: string): TokenBucket | undefined;
  control: Control;
  query?: QueryService;
  /** SQS (AWS JSON 1.0), told apart from ECS by the `AmazonSQS.` target prefix. */
  sqs?: { service: SqsService; handlers: Record<string, SqsHandler> };
}

export class EmulatorServer {
  readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private readonly holds = new Set<NodeJS.Timeout>();

  constructor(private readonly parts: ServerParts) {
    this.server = createServer((req, res) => {
      this.route(req, res).catch((e: unknown) => {
        if (!res.headersSent) this.sendJson(res, 500, { message: String(e) });
      });
    });
    this.server.keepAliveTimeout = 5_000;
    this.server.on("connection", (s) => {
      this.sockets.add(s);
      s.on("close", () => this.sockets.delete(s));
    });
  }

  async listen(port: number, host: string): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(port, host, () => resolve());
    });
    const addr = this.server.address();
    return typeof addr === "object" && addr ? addr.port : port;
  }

  async close(): Promise<void> {
    for (const h of this.holds) clearTimeout(h);
    this.holds.clear();
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://emulator");
    if (url.pathname.startsWith("/_emulator/")) return this.controlRoute(req, res, url);
    if (req.method === "GET" && url.pathname.startsWith("/v4/")) {
      const md = metadataFor(this.parts.ecs.store, url.pathname);
      return md ? this.sendJson(res, 200, md) : this.sendJson(res, 404, { message: "no such container" });
    }
    const body = await readBody(req);
    const target = req.headers["x-amz-target"];
    const sqs = this.sqsDeps();
    if (req.method === "POST" && typeof target === "string" && target.startsWith(SQS_TARGET_PREFIX) && sqs)
      return serveSqs(req, res, { protocol: "json", target, body }, sqs);
    if (req.method === "POST" && typeof target === "string") return this.ecsRoute(res, target, body);
    const form = new URLSearchParams(body);
    for (const [k, v] of url.searchParams) if (!form.has(k)) form.set(k, v);
    const action = form.get("Action");
    // SQS and Auto Scaling both speak Query: SQS's Version (or SigV4 scope) tells them apart.
    if (action && sqs && isSqsQuery(req, form, sqs.handlers))
      return serveSqs(req, res, { protocol: "query", action, form }, sqs);
    if (action && this.parts.query) return this.queryRoute(res, action, form);
    if (req.method === "GET" && url.pathname === "/")
      return this.sendJson(res, 200, {
        service: "ecs-warmpool emulator",
        ecs: true,
        autoscaling: !!this.parts.query,
        sqs: !!this.parts.sqs,
      });
    return this.sendJson(res, 404, { message: `nothing at ${req.method} ${url.pathname}` });
  }

  private sqsDeps(): SqsHttpDeps | undefined {
    const sqs = this.parts.sqs;
    if (!sqs) return undefined;
    return {
      ...sqs,
      faults: this.parts.ecs.faults,
      record: (op, outcome) => this.parts.control.recordSqs(op, outcome),
    };
  }

  /** Faults, then the bucket, then the operation; returns the hold to apply to the answer. */
  private gate(
    op: string,
    bucket: TokenBucket | undefined,
  ): { error?: AwsError; delayMs?: number; hang?: boolean; reset?: boolean } {
    const pre = this.parts.ecs.faults.beforeCall(op);
    if (pre.error) return pre;
    if (bucket && !bucket.tryTake(1)) return { ...pre, error: throttled() };
    return pre;
  }

  private outcome(err: AwsError | undefined): "ok" | "throttled" | "error" {
    if (!err) return "ok";
    return err.code === "ThrottlingException" ? "throttled" : "error";
  }

  private async ecsRoute(res: ServerResponse, target: string, body: string): Promise<void> {
    const requestId = randomUUID();
    const op = target.startsWith(ECS_TARGET_PREFIX) ? target.slice(ECS_TARGET_PREFIX.length) : target;
    const handler = target.startsWith(ECS_TARGET_PREFIX) ? this.parts.handlers[op] : undefined;
    let status = 200;
    let payload: unknown;
    let err: AwsError | undefined;
    let subject: string | undefined;
    const gate = handler ? this.gate(op, this.parts.bucketFor(op)) : {};
    try {
      if (!handler) throw new AwsError("UnknownOperationException", `Unknown operation ${target}`);
      if (gate.error) throw gate.error;
      let input: unknown;
      try {
        input = body.length ? JSON.parse(body) : {};
      } catch {
        throw serializationError("request body is not valid JSON");
      }
      if (typeof input !== "object" || input === null || Array.isArray(input))
        throw serializationError("request body must be a JSON object");
      const by = (input as { startedBy?: unknown }).startedBy;
      if (typeof by === "string") subject = by;
      payload = handler(this.parts.ecs, input as Record<string, unknown>);
    } catch (e) {
      err = e instanceof AwsError ? e : new AwsError("ServerException", `internal error: ${String(e)}`, 500);
      status = err.status;
      payload = { __type: err.code, message: err.message };
    }
    this.parts.control.record(op, this.outcome(err), subject);
    if (gate.hang) return; // never answered; the socket is destroyed on stop()
    if (gate.delayMs) await this.hold(gate.delayMs);
    if (gate.reset) return resetConnection(res);
    const headers: Record<string, string> = { "x-amzn-RequestId": requestId };
    if (err) headers["x-amzn-ErrorType"] = `${err.code}:`;
    this.send(res, status, "application/x-amz-json-1.1", JSON.stringify(payload ?? {}), headers);
  }

  private async queryRoute(res: ServerResponse, action: string, form: URLSearchParams): Promise<void> {
    const q = this.parts.query as QueryService;
    const requestId = randomUUID();
    let xml: string;
    let status = 200;
    let err: AwsError | undefined;
    const gate = q.has(action) ? this.gate(action, q.bucketFor?.(action)) : {};
    try {
      if (!q.has(action))
        throw new AwsError("InvalidAction", `Could not find operation ${action} for version 2011-01-01`);
      if (gate.error) throw gate.error;
      xml = q.handle(action, form).replace("{{RequestId}}", requestId);
    } catch (e) {
      err = e instanceof AwsError ? e : new AwsError("InternalFailure", `internal error: ${String(e)}`, 500);
      if (err.code === "ThrottlingException") err = new AwsError("Throttling", "Rate exceeded", 400);
      if (err.code === "ServerException") err = new AwsError("InternalFailure", err.message, err.status);
      status = err.status;
      xml = q.errorXml(err, requestId);
    }
    this.parts.control.record(
      action,
      err?.code === "Throttling" ? "throttled" : this.outcome(err),
      form.get("AutoScalingGroupName") ?? form.get("AutoScalingGroupNames.member.1") ?? undefined,
    );
    if (gate.hang) return;
    if (gate.delayMs) await this.hold(gate.delayMs);
    if (gate.reset) return resetConnection(res);
    this.send(res, status, "text/xml", xml, { "x-amzn-RequestId": requestId });
  }

  private hold(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.holds.delete(t);
        resolve();
      }, ms);
      this.holds.add(t);
    });
  }

  private async controlRoute(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const c = this.parts.control;
    const path = url.pathname.replace(/\/+$/, "");
    const body = await readBody(req);
    try {
      if (req.method === "GET" && path === "/_emulator/tasks")
        return this.sendJson(res, 200, { tasks: c.tasks() });
      if (req.method === "GET" && path.startsWith("/_emulator/tasks/")) {
        const t = c.task(decodeURIComponent(path.slice("/_emulator/tasks/".length)));
        return t ? this.sendJson(res, 200, t) : this.sendJson(res, 404, { message: "no such task" });
      }
      if (req.method === "GET" && path === "/_emulator/calls")
        return this.sendJson(res, 200, { calls: c.calls(), sqsCalls: c.sqsCalls() });
      if (req.method === "GET" && path === "/_emulator/feed") return this.sendJson(res, 200, c.feed());
      if (req.method === "GET" && path === "/_emulator/feed/events")
        return this.sendJson(res, 200, { events: c.events(url.searchParams.get("taskArn") ?? undefined) });
      if (req.method === "POST" && path === "/_emulator/feed/rules")
        return this.sendJson(res, 201, c.putEventRule(JSON.parse(body || "null") as never));
      if (req.method === "DELETE" && path.startsWith("/_emulator/feed/rules/")) {
        const found = c.deleteEventRule(decodeURIComponent(path.slice("/_emulator/feed/rules/".length)));
        return this.sendJson(res, found ? 200 : 404, found ? {} : { message: "no such rule" });
      }
      if (req.method === "GET" && path === "/_emulator/sqs/queues")
        return this.sendJson(res, 200, { queues: c.queues() });
      if (req.method === "DELETE" && path === "/_emulator/calls") {
        c.resetCalls();
        return this.sendJson(res, 200, {});
      }
      if (req.method === "GET" && path === "/_emulator/state")
        return this.sendJson(res, 200, {
          launched: c.launchedCount(),
          tasks: c.tasks().length,
          calls: c.calls(),
          sqsCalls: c.sqsCalls(),
          feed: c.feed().totals,
          faults: c.faults(),
          livePids: c.livePids(),
        });
      if (req.method === "GET" && path === "/_emulator/autoscaling")
        return this.sendJson(res, 200, { groups: c.autoScalingGroups() });
      if (req.method === "GET" && path === "/_emulator/container-instances")
        return this.sendJson(res, 200, { containerInstances: c.containerInstances() });
      if (req.method === "GET" && path === "/_emulator/faults")
        return this.sendJson(res, 200, { faults: c.faults() });
      if (req.method === "POST" && path === "/_emulator/faults") {
        const id = c.addFault(parseFault(JSON.parse(body || "null")));
        return this.sendJson(res, 201, { id });
      }
      if (req.method === "DELETE" && path === "/_emulator/faults") {
        c.clearFaults();
        return this.sendJson(res, 200, {});
      }
      if (req.method === "DELETE" && path.startsWith("/_emulator/faults/")) {
        c.clearFaults(path.slice("/_emulator/faults/".length));
        return this.sendJson(res, 200, {});
      }
      return this.sendJson(res, 404, { message: `no control route ${req.method} ${path}` });
    } catch (e) {
      return this.sendJson(res, 400, { message: e instanceof Error ? e.message : String(e) });
    }
  }

  private sendJson(res: ServerResponse, status: number, body: unknown): void {
    this.send(res, status, "application/json", JSON.stringify(body));
  }

  private send(
    res: ServerResponse,
    status: number,
    type: string,
    body: string,
    headers: Record<string, string> = {},
  ): void {
    if (res.destroyed) return;
    res.writeHead(status, { "Content-Type": type, "Content-Length": Buffer.byteLength(body), ...headers });
    res.end(body);
  }
}

/** The answer is lost on the way: a TCP RST on the connection, no status line at all. */
function resetConnection(res: ServerResponse): void {
  const socket = res.socket;
  if (!socket || socket.destroyed) return;
  socket.resetAndDestroy();
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}
