/**
 * One SQS call over HTTP, in either protocol: AWS JSON 1.0 (`X-Amz-Target: AmazonSQS.<Op>`) or
 * AWS Query (`Action=<Op>&Version=2012-11-05`). The `queueUnavailable` fault applies first (an
 * error, or a dropped connection), then the handler; the call is counted under SQS, never ECS.
 * A long poll holds the request open; a caller that hangs up ends it without taking messages.
 */
import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { CallOutcome } from "../control.js";
import type { FaultBook } from "../faults.js";
import { SQS_TARGET_PREFIX, type SqsHandler } from "./api.js";
import { internalError, serialization, SqsError, unknownOperation } from "./errors.js";
import { queryErrorXml, queryInput, queryResponseXml } from "./query.js";
import type { SqsService } from "./service.js";

export interface SqsHttpDeps {
  service: SqsService;
  handlers: Record<string, SqsHandler>;
  faults: FaultBook;
  record(op: string, outcome: CallOutcome): void;
}

export type SqsRequest =
  | { protocol: "json"; target: string; body: string }
  | { protocol: "query"; action: string; form: URLSearchParams };

/** True when a Query request is meant for SQS (its Version, or its SigV4 scope names sqs). */
export function isSqsQuery(
  req: IncomingMessage,
  form: URLSearchParams,
  handlers: Record<string, SqsHandler>,
): boolean {
  if (form.get("Version") === "2012-11-05") return true;
  const auth = req.headers.authorization ?? "";
  if (/Credential=[^/]+\/\d{8}\/[^/]+\/sqs\/aws4_request/.test(auth)) return true;
  const action = form.get("Action");
  return !form.has("Version") && !!action && action in handlers;
}

function jsonInput(body: string): Record<string, unknown> {
  let input: unknown;
  try {
    input = body.length ? JSON.parse(body) : {};
  } catch {
    throw serialization("request body is not valid JSON");
  }
  if (typeof input !== "object" || input === null || Array.isArray(input))
    throw serialization("request body must be a JSON object");
  return input as Record<string, unknown>;
}

export async function serveSqs(
  req: IncomingMessage,
  res: ServerResponse,
  r: SqsRequest,
  deps: SqsHttpDeps,
): Promise<void> {
  const requestId = randomUUID();
  const op = r.protocol === "json" ? r.target.slice(SQS_TARGET_PREFIX.length) : r.action;
  const handler = deps.handlers[op];
  const down = handler ? deps.faults.queueUnavailable(op) : undefined;
  if (down?.reset) {
    deps.record(op, "error");
    req.socket.destroy();
    return;
  }
  let closed = false;
  res.on("close", () => (closed = true));
  let out: Record<string, unknown> = {};
  let err: SqsError | undefined;
  try {
    if (!handler) throw unknownOperation(r.protocol === "json" ? r.target : op);
    if (down) {
      const code = down.status === 503 ? "ServiceUnavailable" : "InternalError";
      throw new SqsError(
        code,
        code,
        "The request has failed due to a temporary failure of the server.",
        down.status,
      );
    }
    const input = r.protocol === "json" ? jsonInput(r.body) : queryInput(r.form);
    out = ((await handler(deps.service, input, { gone: () => closed })) ?? {}) as Record<string, unknown>;
  } catch (e) {
    err = e instanceof SqsError ? e : internalError(`internal error: ${String(e)}`);
  }
  deps.record(op, err ? "error" : "ok");
  if (res.destroyed) return;
  const headers: Record<string, string> = { "x-amzn-RequestId": requestId };
  let type: string;
  let text: string;
  if (r.protocol === "json") {
    type = "application/x-amz-json-1.0";
    if (err) {
      const w = err.wire();
      Object.assign(headers, w.headers);
      text = JSON.stringify(w.body);
    } else text = JSON.stringify(out);
  } else {
    type = "text/xml";
    text = err ? queryErrorXml(err, requestId) : queryResponseXml(op, out, requestId);
  }
  res.writeHead(err?.status ?? 200, {
    "Content-Type": type,
    "Content-Length": Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}
