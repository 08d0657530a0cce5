/**
 * Query-protocol parameters read with Auto Scaling's own checks: a missing, too long, non-integer
 * or non-boolean value answers `ValidationError` (HTTP 400) naming the field.
 */
import { AwsError } from "../errors.js";

export const validation = (message: string): AwsError => new AwsError("ValidationError", message);

export function required(p: URLSearchParams, name: string): string {
  const v = p.get(name);
  if (v === null || v === "")
    throw validation(
      `1 validation error detected: Value null at '${name}' failed to satisfy constraint: Member must not be null`,
    );
  if (v.length > 255) throw validation(`${name} must be at most 255 characters`);
  return v;
}

export function int(
  p: URLSearchParams,
  name: string,
  min = 0,
  max = Number.MAX_SAFE_INTEGER,
): number | undefined {
  const v = p.get(name);
  if (v === null) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n)) throw validation(`${name} must be an integer (got '${v}')`);
  if (n < min || n > max) throw validation(`${name} must be between ${min} and ${max} (got ${n})`);
  return n;
}

export function bool(p: URLSearchParams, name: string): boolean | undefined {
  const v = p.get(name);
  if (v === null) return undefined;
  if (v !== "true" && v !== "false") throw validation(`${name} must be true or false (got '${v}')`);
  return v === "true";
}
