/**
 * Reading an operation's JSON input field by field. A value of the wrong JSON type is a
 * SerializationException (the body does not match the shape); a value of the right type that
 * breaks a rule is the operation's own error, raised by the handler.
 */
import { serializationError } from "./errors.js";

export type Input = Record<string, unknown>;

function wrongType(field: string, want: string): never {
  throw serializationError(`field '${field}' must be ${want}`);
}

export function optString(input: Input, field: string): string | undefined {
  const v = input[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "string") wrongType(field, "a string");
  return v;
}

export function optInt(input: Input, field: string): number | undefined {
  const v = input[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "number" || !Number.isInteger(v)) wrongType(field, "an integer");
  return v;
}

export function optBool(input: Input, field: string): boolean | undefined {
  const v = input[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "boolean") wrongType(field, "a boolean");
  return v;
}

export function optArray<T = unknown>(input: Input, field: string): T[] | undefined {
  const v = input[field];
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v)) wrongType(field, "a list");
  return v as T[];
}

export function optStringArray(input: Input, field: string): string[] | undefined {
  const v = optArray(input, field);
  if (v && v.some((x) => typeof x !== "string")) wrongType(field, "a list of strings");
  return v as string[] | undefined;
}

export function optObject<T = Input>(input: Input, field: string): T | undefined {
  const v = input[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "object" || Array.isArray(v)) wrongType(field, "a structure");
  return v as T;
}
