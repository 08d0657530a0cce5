import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { aclFile, aclUser, REDIS_ROLES, withCredentials, type RedisRole } from "../../pkg/redis/index.js";

/** The ACL users a private redis-server was started with (docs/redis-acl.md). */
export interface PrivateRedisAcl {
  pool: string;
  passwords: Record<RedisRole, string>;
  /** Full rights, for tests and dev tooling only (ground truth, REPLICAOF, replication). */
  admin: { user: string; password: string };
}

/** A throwaway redis-server on a free loopback port: no persistence, removed on stop(). */
export interface PrivateRedis {
  /** Without ACL users: no credentials. With them: the admin user's URL (tests read ground truth). */
  readonly url: string;
  /** The URL of a role's ACL user (the plain URL when the server runs without ACL users). */
  urlFor(role: RedisRole): string;
  readonly acl: PrivateRedisAcl | undefined;
  readonly port: number;
  readonly pid: number;
  stop(): Promise<void>;
  /** SIGKILL without cleanup of the port, for fault tests; `restart()` brings it back on the same port. */
  kill(): Promise<void>;
  restart(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return listenOnce(0);
}

/** Binds `port` (0: any) on loopback, closes it, and resolves the port it got; rejects when taken. */
function listenOnce(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(port, "127.0.0.1", () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/**
 * A free port for a cluster-enabled redis-server: Redis Cluster listens on a bus port 10000 above
 * the client port, so the client port must be at most 55535 and both must be free (an ephemeral
 * port from the kernel is often above 55535, and redis-server then refuses to start).
 */
export async function freeClusterPort(): Promise<number> {
  for (let i = 0; i < 200; i++) {
    const port = 20000 + Math.floor(Math.random() * 30000);
    try {
      await listenOnce(port);
      await listenOnce(port + 10000);
      return port;
    } catch {
      // taken: try another
    }
  }
  throw new Error("no free port pair (p, p+10000) for a Redis Cluster node after 200 tries");
}

async function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, "127.0.0.1");
      s.once("connect", () => {
        s.end();
        resolve(true);
      });
      s.once("error", () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline)
      throw new Error(`redis-server did not listen on ${port} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export interface PrivateRedisOptions {
  port?: number;
  binary?: string;
  extraArgs?: string[];
  /**
   * Start with one ACL user per role for this pool (pkg/redis/acl.ts), the default user off, and
   * keyspace notifications on (no role may CONFIG SET them). Passwords are random unless given
   * (a replica shares its primary's).
   */
  acl?: { pool: string; passwords?: Record<RedisRole, string>; admin?: { user: string; password: string } };
  /** Replicate from this port (authenticating as the admin user when ACL users are on). */
  replicaOf?: number;
}

const secret = (): string => randomBytes(18).toString("base64url");

/** Fresh ACL credentials for a pool: a random password per role and an admin user. */
export function newAclCredentials(pool: string): PrivateRedisAcl {
  const passwords = Object.fromEntries(REDIS_ROLES.map((r) => [r, secret()])) as Record<RedisRole, string>;
  return { pool, passwords, admin: { user: "warmpool-admin", password: secret() } };
}

/** Starts redis-server (from PATH) on a free port. Never the machine's shared instance. */
export async function startPrivateRedis(opts: PrivateRedisOptions = {}): Promise<PrivateRedis> {
  const port = opts.port ?? (await freePort());
  const dir = mkdtempSync(join(tmpdir(), "warmpool-redis-"));
  let child: ChildProcess | undefined;
  const acl: PrivateRedisAcl | undefined = opts.acl
    ? {
        ...newAclCredentials(opts.acl.pool),
        ...(opts.acl.passwords ? { passwords: opts.acl.passwords } : {}),
        ...(opts.acl.admin ? { admin: opts.acl.admin } : {}),
      }
    : undefined;
  const aclArgs: string[] = [];
  if (acl) {
    const file = join(dir, "users.acl");
    writeFileSync(file, aclFile(acl.pool, acl.passwords, acl.admin), { mode: 0o600 });
    aclArgs.push("--aclfile", file, "--notify-keyspace-events", "K$g");
  }
  if (opts.replicaOf !== undefined) {
    aclArgs.push("--replicaof", "127.0.0.1", String(opts.replicaOf));
    if (acl) aclArgs.push("--masteruser", acl.admin.user, "--masterauth", acl.admin.password);
  }

  const launch = async (): Promise<void> => {
    const args = [
      "--port",
      String(port),
      "--bind",
      "127.0.0.1",
      "--save",
      "",
      "--appendonly",
      "no",
      "--dir",
      dir,
      "--daemonize",
      "no",
      "--protected-mode",
      "yes",
      "--loglevel",
      "warning",
      ...aclArgs,
      ...(opts.extraArgs ?? []),
    ];
    // Its own process group: a Ctrl-C in the terminal reaches the parent, which stops redis last.
    const c = spawn(opts.binary ?? "redis-server", args, {
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    // redis-server prints its start-up errors (bad flag, port in use) on stdout, not stderr.
    let stderr = "";
    const keep = (d: Buffer): void => {
      if (stderr.length < 8192) stderr += d.toString();
    };
    c.stdout?.on("data", keep);
    c.stderr?.on("data", keep);
    const failed = new Promise<never>((_, reject) => {
      c.once("error", (e) =>
        reject(new Error(`starting redis-server: ${e.message} (is redis-server on PATH?)`)),
      );
      c.once("exit", (code) => reject(new Error(`redis-server exited with ${code}: ${stderr}`)));
    });
    failed.catch(() => undefined);
    await Promise.race([waitForPort(port, 10_000), failed]);
    c.removeAllListeners("exit");
    child = c;
  };

  const terminate = async (signal: NodeJS.Signals): Promise<void> => {
    const c = child;
    child = undefined;
    if (!c || c.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      c.once("exit", () => resolve());
      c.kill(signal);
    });
  };

  await launch();
  const onExit = (): void => {
    child?.kill("SIGKILL");
  };
  process.once("exit", onExit);

  const plain = `redis://127.0.0.1:${port}`;
  return {
    url: acl ? withCredentials(plain, acl.admin.user, acl.admin.password) : plain,
    urlFor: (role) => (acl ? withCredentials(plain, aclUser(role), acl.passwords[role]) : plain),
    acl,
    port,
    get pid() {
      return child?.pid ?? -1;
    },
    async stop() {
      process.removeListener("exit", onExit);
      await terminate("SIGTERM");
      rmSync(dir, { recursive: true, force: true });
    },
    async kill() {
      await terminate("SIGKILL");
    },
    async restart() {
      await terminate("SIGKILL");
      await launch();
    },
  };
}
