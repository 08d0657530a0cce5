/**
 * Knows which user ids may name a workspace directory. The pattern is configurable; the hard rules
 * below hold whatever the pattern says, because the id becomes a path segment under the shared
 * workspace root (DESIGN §1: users are isolated by directory).
 */
export const DEFAULT_USER_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;
export const MAX_USER_ID_LENGTH = 128;

export type UserIdCheck = { ok: true } | { ok: false; rule: string };

export function checkUserId(userId: unknown, pattern: RegExp = DEFAULT_USER_ID_PATTERN): UserIdCheck {
  if (typeof userId !== "string") return { ok: false, rule: "must be a string" };
  if (userId.length === 0) return { ok: false, rule: "must not be empty" };
  if (userId.length > MAX_USER_ID_LENGTH)
    return { ok: false, rule: `must be at most ${MAX_USER_ID_LENGTH} characters` };
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(userId))
    return { ok: false, rule: "must not contain control characters or NUL" };
  if (/[/\\]/.test(userId)) return { ok: false, rule: "must not contain a path separator" };
  if (userId === "." || userId === ".." || userId.startsWith("."))
    return { ok: false, rule: "must not start with '.'" };
  if (userId.normalize("NFKC") !== userId) {
    return { ok: false, rule: "must be in Unicode NFKC form (no look-alike or compatibility characters)" };
  }
  if (/[\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]/.test(userId)) {
    return { ok: false, rule: "must not contain invisible or direction-control characters" };
  }
  if (!pattern.test(userId)) return { ok: false, rule: `must match ${pattern.source}` };
  return { ok: true };
}

/** Compiles a configured pattern, anchoring it so a partial match can never pass. */
export function userIdPattern(source?: string): RegExp {
  if (!source) return DEFAULT_USER_ID_PATTERN;
  const anchored = `${source.startsWith("^") ? "" : "^"}${source}${source.endsWith("$") ? "" : "$"}`;
  return new RegExp(anchored, "u");
}
