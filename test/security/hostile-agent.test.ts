/**
 * The hostile-agent suite (docs/security.md): a real gateway, a real redis-server with a password,
 * a fake ECS credentials endpoint, and real `warmpool bridge` processes whose agent is
 * hostile-agent.mjs. The agent tries to read the bridge's secrets, reach Redis and the credentials
 * endpoint with what it found, and get at another user's workspace; it writes a report of each
 * attempt, and the filesystem is checked afterwards as ground truth.
 *
 * The same attack runs twice with the same secrets in the same places (Redis URL in the bridge's
 * environment as ECS `secrets` put it, also in a 0400 file; the credentials URI in its
 * environment): once as shipped (bridge root with CHOWN/KILL/SETUID/SETGID only, one UID per user)
 * where every attempt must fail, and once as the pool ran before (bridge and agents share uid
 * 1000, root 0755 owned by it) where the same attempts must succeed, so this suite can fail.
 * Needs root (it switches UIDs) and `npx tsc -p .` (the bridge runs from dist/).
 */
import { randomBytes, randomUUID } from "node:crypto";
import {
  chmodSync,
  chownSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runGateway } from "../../pkg/gateway/index.js";
import { startPrivateRedis, uniquePool, waitFor, type PrivateRedis } from "../harness/index.js";
import { spawnBridge, type BridgeProcess } from "../bridge/spawn-bridge.js";

const asRoot = process.getuid?.() === 0;
const PASSWORD = randomBytes(24).toString("hex");
const CRED_PATH = `/v2/credentials/${randomUUID()}`;
const TOKEN = randomBytes(16).toString("hex");
const LEGACY_UID = 1000;
const AGENT = fileURLToPath(new URL("./hostile-agent.mjs", import.meta.url));

let server: PrivateRedis;
let redisUrl: string;
let creds: Server;
let credsPort: number;
let base: string;
beforeAll(async () => {
  if (!asRoot) return;
  server = await startPrivateRedis({ extraArgs: ["--requirepass", PASSWORD] });
  redisUrl = `redis://:${PASSWORD}@127.0.0.1:${server.port}`;
  creds = createServer((req, res) => {
    const ok = req.url === CRED_PATH;
    res.writeHead(ok ? 200 : 404, { "content-type": "application/json" });
    res.end(ok ? JSON.stringify({ AccessKeyId: "ASIAFAKE", SecretAccessKey: "x", Token: "y" }) : "{}");
  });
  await new Promise<void>((r) => creds.listen(0, "127.0.0.1", r));
  credsPort = (creds.address() as AddressInfo).port;
  base = mkdtempSync(join(tmpdir(), "wp-sec-"));
  chmodSync(base, 0o711);
});
afterAll(async () => {
  if (!asRoot) return;
  creds?.close();
  await server?.stop();
  rmSync(base, { recursive: true, force: true });
});

interface Attempt {
  ok: boolean;
  data?: string;
  error?: string;
}
interface Report {
  uid: number;
  groups: number[];
  status: Record<string, string>;
  attempts: Record<string, Attempt>;
}

/** One pool, one root, one gateway; `broken` = the bridge runs as uid 1000 (shares it with agents). */
async function world(broken: boolean) {
  const pool = uniquePool(broken ? "secb" : "sec");
  const home = join(base, pool);
  const root = join(home, "ws");
  mkdirSync(root, { recursive: true });
  chmodSync(home, 0o711);
  const secretFile = join(home, "redis-url");
  writeFileSync(secretFile, redisUrl, { mode: 0o400 });
  if (broken) {
    for (const p of [home, root, secretFile]) chownSync(p, LEGACY_UID, LEGACY_UID);
    chmodSync(root, 0o755);
  }
  const gw = await runGateway({
    pool,
    redisUrl,
    host: "127.0.0.1",
    port: 0,
    tokens: TOKEN,
    defaultLeaseSeconds: 300,
    defaultWaitMs: 0,
    maxWaitMs: 60_000,
    readyTimeoutMs: 30_000,
    retryAfterSeconds: 1,
  });
  const bridges: BridgeProcess[] = [];
  const startBridge = (agentArgv: string[]): BridgeProcess => {
    const b = spawnBridge({
      pool,
      root,
      env: { WARMPOOL_REDIS_URL: redisUrl, AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: CRED_PATH },
      extraArgs: ["--redis-url-file", secretFile, "--", ...agentArgv],
      ...(broken
        ? { uid: LEGACY_UID }
        : { wrapper: ["setpriv", "--bounding-set", "-all,+chown,+setuid,+setgid,+kill", "--"] }),
    });
    bridges.push(b);
    return b;
  };
  const claim = async (userId: string): Promise<{ claimId: string }> => {
    const r = await fetch(`${gw.url}/v1/claims`, {
      method: "POST",
      headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
      body: JSON.stringify({ userId, waitMs: 60_000 }),
    });
    const body = (await r.json()) as { claimId: string };
    if (r.status !== 201) throw new Error(`claim ${userId}: ${r.status} ${JSON.stringify(body)}`);
    return body;
  };
  const release = (claimId: string) =>
    fetch(`${gw.url}/v1/claims/${claimId}`, {
      method: "DELETE",
      headers: { authorization: `Bearer ${TOKEN}` },
    });
  const close = async () => {
    for (const b of bridges) if (b.child.exitCode === null) b.child.kill("SIGKILL");
    await gw.close();
  };
  return { pool, root, secretFile, startBridge, claim, release, close, bridges };
}

/** A victim's session leaves a secret in its workspace; then a hostile agent has a go. */
async function attack(broken: boolean) {
  const w = await world(broken);
  try {
    const victim = w.startBridge(["sh", "-c", "echo top-secret > secret.txt"]);
    await w.claim("victim");
    expect(await victim.exited, victim.stderr()).toBe(1);
    expect(readFileSync(join(w.root, "victim", "secret.txt"), "utf8")).toBe("top-secret\n");

    const cfg = {
      redisPort: server.port,
      credsPort,
      victim: "victim",
      newcomer: "newcomer",
      newcomer2: "newcomer2",
      secretFile: w.secretFile,
    };
    const hostile = w.startBridge([process.execPath, AGENT, JSON.stringify(cfg)]);
    const c = await w.claim("mallory");
    const reportPath = join(w.root, "mallory", "hostile-report.json");
    await waitFor(`hostile report (bridge: ${hostile.stderr()})`, () => existsSync(reportPath), 60_000);
    await waitFor("report complete", () => {
      try {
        return JSON.parse(readFileSync(reportPath, "utf8")) as Report;
      } catch {
        return undefined;
      }
    });
    const report = JSON.parse(readFileSync(reportPath, "utf8")) as Report;
    if (process.env.SECURITY_REPORT_DIR)
      writeFileSync(
        join(process.env.SECURITY_REPORT_DIR, `${broken ? "broken" : "shipped"}.json`),
        JSON.stringify(report, null, 1),
      );
    await w.release(c.claimId);
    expect(await hostile.exited).toBe(1);
    return { w, report, hostile };
  } catch (e) {
    await w.close();
    throw e;
  }
}

const ALWAYS_READABLE = new Set(["own-env", "bridge-cmdline", "pid1-cmdline"]);

describe.skipIf(!asRoot)("a hostile agent", { timeout: 240_000 }, () => {
  it("as shipped: every attempt fails, nothing of another user or of the bridge is reached", async () => {
    const { w, report, hostile } = await attack(false);
    try {
      const text = JSON.stringify(report);
      expect(text).not.toContain(PASSWORD);
      expect(text).not.toContain(CRED_PATH);
      expect(text).not.toContain("top-secret");
      for (const [name, a] of Object.entries(report.attempts)) {
        if (ALWAYS_READABLE.has(name)) continue;
        expect(a.ok, `${name} should have failed: ${JSON.stringify(a)}`).toBe(false);
      }
      expect(report.attempts["own-env"]!.data).not.toMatch(/WARMPOOL_|AWS_|ECS_|REDIS/);
      // Its own UID, no supplementary groups (Node reports the egid among them), not root.
      expect(report.uid).toBeGreaterThan(100_000);
      expect(report.groups).toEqual([report.uid]);
      // No capability in any set, no supplementary group, and no way back up through exec.
      expect(report.status).toEqual({
        Groups: "",
        CapInh: "0000000000000000",
        CapPrm: "0000000000000000",
        CapEff: "0000000000000000",
        CapAmb: "0000000000000000",
        NoNewPrivs: "1",
      });
      expect(lstatSync(join(w.root, "mallory")).uid).toBe(report.uid);

      // Ground truth on disk: the victim's directory is as it was; nothing was pre-created.
      const v = join(w.root, "victim");
      expect(readdirSync(v)).toEqual(["secret.txt"]);
      expect(readFileSync(join(v, "secret.txt"), "utf8")).toBe("top-secret\n");
      expect(lstatSync(v).mode & 0o777).toBe(0o700);
      expect(readdirSync(w.root).sort()).toEqual([".warmpool-uids", "mallory", "victim"]);
      expect(lstatSync(w.root).mode & 0o7777).toBe(0o711);
      expect(hostile.stderr()).not.toContain(PASSWORD);

      // The newcomer the attacker tried to pre-empt gets a clean directory of its own UID.
      const next = w.startBridge(["sh", "-c", 'l=$(ls -A); id -u > uid.txt; echo "[$l]" > ls.txt']);
      await w.claim("newcomer");
      expect(await next.exited).toBe(1);
      const dir = join(w.root, "newcomer");
      const uid = Number(readFileSync(join(dir, "uid.txt"), "utf8"));
      expect(uid).not.toBe(report.uid);
      expect(lstatSync(dir).uid).toBe(uid);
      expect(readFileSync(join(dir, "ls.txt"), "utf8")).toBe("[]\n");
    } finally {
      await w.close();
    }
  });

  it("against the old setup (bridge and agents share uid 1000): the same attempts succeed", async () => {
    const { w, report } = await attack(true);
    try {
      const mustSucceed = [
        "bridge-environ",
        "bridge-maps",
        "bridge-fd",
        "bridge-mem",
        "signal-bridge",
        "scan-environ",
        "secret-file",
        "redis-with-found-credentials",
        "ecs-credentials",
        "list-root",
        "list-victim",
        "read-victim",
        "read-victim-via-dotdot",
        "hardlink-victim-file",
        "symlink-to-victim-then-read",
        "write-victim",
        "precreate-newcomer-dir",
        "precreate-newcomer-symlink",
        "delete-victim-file",
        "rename-victim",
      ];
      for (const name of mustSucceed)
        expect(report.attempts[name]?.ok, `${name}: ${JSON.stringify(report.attempts[name])}`).toBe(true);
      expect(report.attempts["bridge-environ"]!.data).toContain(PASSWORD);
      expect(report.attempts["bridge-environ"]!.data).toContain(CRED_PATH);
      expect(report.attempts["read-victim"]!.data).toBe("top-secret\n");
      expect(report.uid).toBe(LEGACY_UID);
      expect(report.status["NoNewPrivs"]).toBe("0"); // a setuid binary in the image would work
      expect(existsSync(join(w.root, "victim-gone", ".bashrc"))).toBe(true);
      expect(lstatSync(join(w.root, "newcomer2")).isSymbolicLink()).toBe(true);
    } finally {
      await w.close();
    }
  });
});
