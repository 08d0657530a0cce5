import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Redis } from "ioredis";
import { packageRoot } from "../util/index.js";

/** The lease scripts as ioredis commands; the key count is in each file's name. */

const SCRIPTS = [
  { file: "acquire-2.lua", keys: 2 },
  { file: "renew-2.lua", keys: 2 },
  { file: "release-1.lua", keys: 1 },
] as const;

let version: string | undefined;
function packageVersion(): string {
  version ??= (JSON.parse(readFileSync(join(packageRoot(), "package.json"), "utf8")) as { version: string })
    .version;
  return version;
}

/**
 * Defines the lease scripts on a connection (once), named with the package version so two
 * releases sharing one Redis never run each other's scripts. Returns the command names.
 */
export function defineLeaseScripts(redis: Redis): { acquire: string; renew: string; release: string } {
  const suffix = packageVersion().replace(/[^A-Za-z0-9]/g, "_");
  const names = {
    acquire: `wpLeaseAcquire_${suffix}`,
    renew: `wpLeaseRenew_${suffix}`,
    release: `wpLeaseRelease_${suffix}`,
  };
  const r = redis as unknown as Record<string, unknown>;
  if (typeof r[names.acquire] !== "function") {
    const dir = join(packageRoot(), "pkg", "leader");
    const [acquire, renew, release] = SCRIPTS.map((s) => ({
      numberOfKeys: s.keys,
      lua: readFileSync(join(dir, s.file), "utf8"),
    }));
    redis.defineCommand(names.acquire, acquire!);
    redis.defineCommand(names.renew, renew!);
    redis.defineCommand(names.release, release!);
  }
  return names;
}
