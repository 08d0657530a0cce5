/**
 * Knows which bearer tokens may call the gateway: from an environment variable (comma separated)
 * and/or a file (one per line, `#` comments), compared in constant time.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import { readFileSync } from "node:fs";

export class BearerTokens {
  private readonly digests: Buffer[];

  constructor(tokens: Iterable<string>) {
    this.digests = [...new Set(tokens)].map(digest);
  }

  get size(): number {
    return this.digests.length;
  }

  /** True when the Authorization header carries one of the tokens. */
  accepts(header: string | undefined): boolean {
    return this.identify(header) !== undefined;
  }

  /**
   * Which token the Authorization header carries, as a stable id that reveals nothing of the
   * token (the first 16 hex digits of its SHA-256): the subject of the per-token claim quota.
   * Undefined when it carries none of them.
   */
  identify(header: string | undefined): string | undefined {
    const m = /^Bearer ([\x21-\x7e]+)$/.exec(header ?? "");
    if (!m?.[1]) return undefined;
    const d = digest(m[1]);
    let ok = false;
    for (const t of this.digests) ok = timingSafeEqual(t, d) || ok;
    return ok ? d.toString("hex").slice(0, 16) : undefined;
  }
}

function digest(token: string): Buffer {
  return createHash("sha256").update(token).digest();
}

/** Reads tokens; refuses an empty set, since a gateway must never run open by accident. */
export function loadTokens(opts: { env?: string; file?: string }): BearerTokens {
  const tokens: string[] = [];
  if (opts.env)
    tokens.push(
      ...opts.env
        .split(",")
        .map((t) => t.trim())
        .filter(Boolean),
    );
  if (opts.file) {
    let text: string;
    try {
      text = readFileSync(opts.file, "utf8");
    } catch (e) {
      throw new Error(`reading gateway tokens file ${opts.file}`, { cause: e });
    }
    for (const line of text.split("\n")) {
      const t = line.trim();
      if (t && !t.startsWith("#")) tokens.push(t);
    }
  }
  const bad = tokens.find((t) => !/^[\x21-\x7e]{16,512}$/.test(t));
  if (bad !== undefined)
    throw new Error("gateway tokens: each token must be 16-512 printable ASCII characters");
  if (tokens.length === 0) {
    throw new Error("gateway tokens: none given (set WARMPOOL_GATEWAY_TOKENS or --tokens-file)");
  }
  return new BearerTokens(tokens);
}
