/**
 * How the bridge keeps the agent in its box (docs/security.md):
 *
 * - `per-user`: the bridge runs as root with exactly CAP_CHOWN, CAP_SETUID, CAP_SETGID and
 *   CAP_KILL; each agent runs as its user's own UID/GID with no supplementary groups (libuv calls
 *   setgroups(0) before setgid/setuid), no capabilities (a switch from uid 0 to another uid clears
 *   them) and no_new_privs (setpriv), so a setuid binary in the image cannot give root back. The
 *   agent's chdir into its workspace happens after the switch (`env -C`), checked as the user.
 *   A different UID is what keeps the bridge's /proc/<pid>/{environ,mem,fd,maps} and its secret
 *   file closed to the agent: those need the same uid (and ptrace rights) or CAP_SYS_PTRACE.
 * - `shared`: a bridge that is not root cannot switch; the agent runs as the bridge's uid and can
 *   read everything the bridge can. Allowed for local development only, always with a warning.
 */
import { accessSync, constants, readFileSync } from "node:fs";
import { open } from "node:fs/promises";

export type IsolationMode = "auto" | "per-user" | "shared";

export type Isolation =
  { mode: "per-user"; uidBase: number; setpriv: string; env: string } | { mode: "shared"; why: string };

/** Linux capability numbers the bridge needs, and why. */
export const BRIDGE_CAPABILITIES: Record<string, { bit: number; why: string }> = {
  CHOWN: { bit: 0, why: "hand a new workspace directory to its user's UID" },
  KILL: { bit: 5, why: "signal the agent (another UID) at the end of a session" },
  SETGID: { bit: 6, why: "start the agent with its user's GID and no supplementary groups" },
  SETUID: { bit: 7, why: "start the agent as its user's UID" },
};

const CAP_NAMES = (
  "CHOWN DAC_OVERRIDE DAC_READ_SEARCH FOWNER FSETID KILL SETGID SETUID SETPCAP LINUX_IMMUTABLE " +
  "NET_BIND_SERVICE NET_BROADCAST NET_ADMIN NET_RAW IPC_LOCK IPC_OWNER SYS_MODULE SYS_RAWIO " +
  "SYS_CHROOT SYS_PTRACE SYS_PACCT SYS_ADMIN SYS_BOOT SYS_NICE SYS_RESOURCE SYS_TIME " +
  "SYS_TTY_CONFIG MKNOD LEASE AUDIT_WRITE AUDIT_CONTROL SETFCAP MAC_OVERRIDE MAC_ADMIN SYSLOG " +
  "WAKE_ALARM BLOCK_SUSPEND AUDIT_READ PERFMON BPF CHECKPOINT_RESTORE"
).split(" ");

const BIN_DIRS = ["/usr/bin", "/bin", "/usr/sbin", "/sbin"];

function findBinary(name: string): string | undefined {
  for (const d of BIN_DIRS) {
    try {
      accessSync(`${d}/${name}`, constants.X_OK);
      return `${d}/${name}`;
    } catch {
      // next
    }
  }
  return undefined;
}

/** Effective capabilities of this process, from /proc/self/status (undefined off Linux). */
export function effectiveCapabilities(): bigint | undefined {
  try {
    const m = /^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync("/proc/self/status", "utf8"));
    return m?.[1] ? BigInt(`0x${m[1]}`) : undefined;
  } catch {
    return undefined;
  }
}

export function resolveIsolation(requested: IsolationMode, uidBase: number): Isolation {
  const root = process.getuid?.() === 0;
  if (requested === "shared" && root)
    throw new Error(
      "isolation: 'shared' as root would run every agent as root; run the bridge as a non-root uid, or use per-user",
    );
  if (!root) {
    if (requested === "per-user")
      throw new Error(
        "isolation: per-user needs the bridge to run as root (with CAP_CHOWN, CAP_SETUID, CAP_SETGID, CAP_KILL)",
      );
    return {
      mode: "shared",
      why: `the bridge runs as uid ${process.getuid?.() ?? "?"}, not root: every agent runs as that uid and can read the bridge's environment, secrets and other users' workspaces`,
    };
  }
  const caps = effectiveCapabilities();
  if (caps !== undefined) {
    const missing = Object.entries(BRIDGE_CAPABILITIES)
      .filter(([, c]) => (caps & (1n << BigInt(c.bit))) === 0n)
      .map(([n, c]) => `CAP_${n} (${c.why})`);
    if (missing.length) throw new Error(`isolation: per-user needs ${missing.join(", ")}`);
  }
  const setpriv = findBinary("setpriv");
  const env = findBinary("env");
  if (!setpriv || !env)
    throw new Error(
      "isolation: per-user needs setpriv (util-linux) and env (coreutils) in /usr/bin or /bin, to start the agent with no_new_privs in its workspace",
    );
  return { mode: "per-user", uidBase, setpriv, env };
}

/** Names of capabilities held beyond the ones the bridge needs (for a startup warning). */
export function extraCapabilities(): string[] {
  const caps = effectiveCapabilities();
  if (caps === undefined) return [];
  const needed = Object.values(BRIDGE_CAPABILITIES).reduce((m, c) => m | (1n << BigInt(c.bit)), 0n);
  const extra: string[] = [];
  for (let b = 0; b < 64; b++)
    if ((caps & ~needed & (1n << BigInt(b))) !== 0n) extra.push(CAP_NAMES[b] ?? String(b));
  return extra;
}

/**
 * Reads a secret from a file that only the bridge can read: a regular file (not a link), owned by
 * the bridge's uid, no group or other permission bits. Anything else is refused, naming the rule.
 */
export async function readSecretFile(flag: string, path: string): Promise<string> {
  let fh;
  try {
    fh = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (e) {
    throw new Error(`${flag}: cannot open ${path} (${(e as NodeJS.ErrnoException).code ?? String(e)})`, {
      cause: e,
    });
  }
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw new Error(`${flag}: ${path} must be a regular file`);
    if (st.uid !== process.getuid?.())
      throw new Error(
        `${flag}: ${path} must be owned by the bridge's uid ${process.getuid?.()} (is ${st.uid})`,
      );
    if ((st.mode & 0o077) !== 0)
      throw new Error(
        `${flag}: ${path} has mode ${(st.mode & 0o777).toString(8)}; it must be 0400 or 0600 (no group or other access)`,
      );
    const v = (await fh.readFile("utf8")).trim();
    if (!v) throw new Error(`${flag}: ${path} is empty`);
    return v;
  } finally {
    await fh.close();
  }
}

/** A URL with a password on the command line: /proc/<pid>/cmdline is readable by every uid. */
export function secretOnCommandLine(argv: readonly string[]): string | undefined {
  const withPassword = /^[a-z][a-z0-9+.-]*:\/\/[^/@\s]*:[^/@\s]+@/i;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const eq = a.startsWith("--") ? a.indexOf("=") : -1;
    if (!withPassword.test(eq >= 0 ? a.slice(eq + 1) : a)) continue;
    if (eq >= 0) return a.slice(0, eq);
    const prev = argv[i - 1];
    return prev?.startsWith("--") && !prev.includes("=") ? prev : "an argument";
  }
  return undefined;
}

/**
 * Drops the bridge's secrets from `process.env` once read, so no child can inherit them by
 * mistake. This does NOT change /proc/<pid>/environ, which keeps the block the process started
 * with: what keeps that from the agent is the different uid.
 */
export function scrubEnvironment(env: NodeJS.ProcessEnv = process.env): string[] {
  const gone: string[] = [];
  for (const k of Object.keys(env))
    if (/^(AWS_|WARMPOOL_REDIS_URL|WARMPOOL_GATEWAY_TOKENS)/.test(k)) {
      delete env[k];
      gone.push(k);
    }
  return gone;
}

/**
 * How to start bridges on this machine the way a pool task does (for `warmpool dev` and the
 * emulator's task processes): as root, through setpriv with the bounding set cut to the four
 * capabilities the bridge needs, so agents get per-user UIDs; otherwise as this uid, shared.
 */
export function localBridgeLaunch(argv: string[]): { command: string; args: string[]; note: string } {
  const [command, ...args] = argv;
  if (!command) throw new Error("localBridgeLaunch: empty command");
  const setpriv = findBinary("setpriv");
  if (process.getuid?.() === 0 && setpriv) {
    const caps = Object.keys(BRIDGE_CAPABILITIES).map((c) => `+${c.toLowerCase()}`);
    return {
      command: setpriv,
      args: ["--bounding-set", ["-all", ...caps].join(","), "--", command, ...args],
      note: "per-user UIDs: each agent runs as its own UID in a 0700 directory (as in a pool task)",
    };
  }
  return {
    command,
    args,
    note: "WARNING: not root, so agents cannot be separated: they run as your uid and can read each other's workspaces and the bridge's secrets",
  };
}
