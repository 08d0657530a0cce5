/**
 * Reading JSON bodies with a size cap and writing JSON answers: the gateway's HTTP plumbing. Every
 * error leaves as RFC 9457 problem details (pkg/api/problem.ts), whatever the route.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { PROBLEM_CONTENT_TYPE, problem, type ProblemExtra, type ProblemKind } from "../api/index.js";

/** Default problem kind of a status, when the thrower names none. */
const KIND_OF: Record<number, ProblemKind> = {
  400: "invalid-input",
  401: "unauthorized",
  404: "not-found",
  405: "method-not-allowed",
  413: "payload-too-large",
  503: "redis-unavailable",
};

/** A problem to answer with; `message` is its detail, `<field>: <rule>` for bad input. */
export class HttpError extends Error {
  readonly kind: ProblemKind;
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
    readonly extra: ProblemExtra & { kind?: ProblemKind } = {},
  ) {
    super(message);
    this.kind = extra.kind ?? KIND_OF[status] ?? "internal";
  }
}

/** The field a `<field>: <rule>` detail names, if it starts with one. */
function fieldOf(detail: string): string | undefined {
  return /^([A-Za-z][\w.-]*): /.exec(detail)?.[1];
}

/** Writes `application/problem+json`; `field` defaults to the one the detail starts with (400). */
export function sendProblem(
  res: ServerResponse,
  status: number,
  kind: ProblemKind,
  detail: string,
  extra: ProblemExtra = {},
  headers: Record<string, string> = {},
): void {
  const field = extra.field ?? (status === 400 ? fieldOf(detail) : undefined);
  const given = Object.entries({ ...extra, field }).filter(([, v]) => v !== undefined);
  const body = problem(kind, status, detail, Object.fromEntries(given) as ProblemExtra);
  sendJson(res, status, body, { "content-type": `${PROBLEM_CONTENT_TYPE}; charset=utf-8`, ...headers });
}

export function sendHttpError(res: ServerResponse, e: HttpError): void {
  const { kind: _kind, ...extra } = e.extra;
  sendProblem(res, e.status, e.kind, e.message, extra, e.headers);
}

export const MAX_BODY_BYTES = 16 * 1024;

/**
 * The parsed body; `{}` when empty. 413 past the cap, 400 for malformed JSON or a non-object.
 *
 * Read with plain 'data'/'end' listeners rather than `for await`: a claim's body is one small
 * chunk, and the async iterator's promise per chunk and its own state were a measurable share of
 * the gateway's garbage per claim (hence of its GC pauses, which every claim in flight waits out).
 */
export function readJsonObject(req: IncomingMessage): Promise<Record<string, unknown>> {
  const declared = Number(req.headers["content-length"] ?? "0");
  if (declared > MAX_BODY_BYTES) {
    req.resume();
    return Promise.reject(new HttpError(413, `body: must be at most ${MAX_BODY_BYTES} bytes`));
  }
  return new Promise((resolve, reject) => {
    let first: Buffer | undefined;
    let more: Buffer[] | undefined;
    let size = 0;
    const cleanup = (): void => {
      req.off("data", onData);
      req.off("end", onEnd);
      req.off("error", onError);
      req.off("close", onClose);
    };
    const onData = (c: Buffer): void => {
      size += c.length;
      if (size > MAX_BODY_BYTES) {
        cleanup();
        req.resume();
        reject(new HttpError(413, `body: must be at most ${MAX_BODY_BYTES} bytes`));
        return;
      }
      if (first === undefined) first = c;
      else (more ??= [first]).push(c);
    };
    const onEnd = (): void => {
      cleanup();
      try {
        const text = more ? Buffer.concat(more).toString("utf8") : (first?.toString("utf8") ?? "");
        resolve(parseJsonObject(text));
      } catch (e) {
        reject(e as Error);
      }
    };
    const onError = (e: Error): void => {
      cleanup();
      reject(e);
    };
    // The connection went away before the body ended (for await threw the same way).
    const onClose = (): void => {
      if (req.complete) return;
      cleanup();
      reject(new Error("aborted"));
    };
    req.on("data", onData);
    req.on("end", onEnd);
    req.on("error", onError);
    req.on("close", onClose);
  });
}

function parseJsonObject(text: string): Record<string, unknown> {
  if (text.trim() === "") return {};
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new HttpError(400, `body: malformed JSON (${(e as Error).message})`);
  }
  if (typeof v !== "object" || v === null || Array.isArray(v))
    throw new HttpError(400, "body: must be a JSON object");
  return v as Record<string, unknown>;
}

/** 400 naming the first field the endpoint does not know (typos must not pass silently). */
export function rejectUnknownFields(body: Record<string, unknown>, allowed: readonly string[]): void {
  const unknown = Object.keys(body).find((k) => !allowed.includes(k));
  if (unknown !== undefined) {
    throw new HttpError(
      400,
      `${unknown}: unknown field (allowed: ${allowed.join(", ")})`,
      {},
      { field: unknown },
    );
  }
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(text),
    "cache-control": "no-store",
    ...headers,
  });
  res.end(text);
}
