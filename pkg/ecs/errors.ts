/** How the driver classifies an AWS SDK error: what to retry and how to count it. */
export type ErrorClass = "throttled" | "transient" | "fatal";

interface SdkErrorLike {
  name?: string;
  $fault?: "client" | "server";
  $metadata?: { httpStatusCode?: number };
  $retryable?: { throttling?: boolean };
  code?: string;
}

const THROTTLE_NAMES = new Set([
  "ThrottlingException",
  "Throttling",
  "ThrottledException",
  "RequestLimitExceeded",
  "TooManyRequestsException",
]);

const NETWORK_CODES = new Set(["ECONNRESET", "ECONNREFUSED", "ETIMEDOUT", "EPIPE", "EAI_AGAIN"]);

export function classifyError(err: unknown): ErrorClass {
  const e = (err ?? {}) as SdkErrorLike;
  if ((e.name && THROTTLE_NAMES.has(e.name)) || e.$retryable?.throttling) return "throttled";
  const status = e.$metadata?.httpStatusCode;
  if (status === 429) return "throttled";
  if (e.$fault === "server" || (status !== undefined && status >= 500)) return "transient";
  if (e.name === "ServerException" || e.name === "TimeoutError" || e.name === "RequestTimeout") {
    return "transient";
  }
  if (e.code && NETWORK_CODES.has(e.code)) return "transient";
  return "fatal";
}

/** Full-jitter exponential backoff (AWS Architecture Blog, "Exponential Backoff and Jitter"). */
export function backoffMs(attempt: number, baseMs: number, maxMs: number, random = Math.random): number {
  const cap = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt));
  return Math.round(random() * cap);
}
