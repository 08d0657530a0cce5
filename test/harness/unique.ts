import { randomBytes } from "node:crypto";

/** A pool name unique to this test run, so tests sharing one Redis never see each other's keys. */
export function uniquePool(base = "t"): string {
  return `${base}-${randomBytes(4).toString("hex")}`;
}
