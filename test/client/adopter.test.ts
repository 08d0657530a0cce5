/**
 * The package as an adopter gets it: `npm pack`, unpacked into a fresh directory's node_modules,
 * its `warmpool dev` started from there, and an external program (session-service.mjs, plain
 * JavaScript importing only "ecs-warmpool/client" through the package's `exports`) claims,
 * heartbeats and releases through the client. Ground truth from the dev pool's Redis; every
 * response the test's own client gets is checked against api/openapi.json.
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ClaimKeys } from "../../pkg/claims/index.js";
import { GatewayError, WarmpoolClient } from "../../pkg/client/index.js";
import { packageRoot } from "../../pkg/util/index.js";
import { checkResponse, checkedResponses } from "../harness/contract.js";
import { uniquePool, waitFor } from "../harness/index.js";

const root = packageRoot();
const pool = uniquePool("adopt");
let dir: string;
let installed: string;
let dev: ChildProcess | undefined;
let out = "";
let gateway: string;
let token: string;
let redis: Redis;

function run(cmd: string, args: string[], cwd: string): string {
  return execFileSync(cmd, args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

beforeAll(async () => {
  expect(existsSync(join(root, "dist", "pkg", "client", "index.d.ts")), "run `npx tsc -p .` first").toBe(
    true,
  );
  dir = mkdtempSync(join(tmpdir(), "wp-adopter-"));
  const packed = JSON.parse(
    run("npm", ["pack", "--ignore-scripts", "--json", "--pack-destination", dir], root),
  ) as { filename: string }[];
  installed = join(dir, "node_modules", "ecs-warmpool");
  mkdirSync(installed, { recursive: true });
  run("tar", ["-xzf", join(dir, packed[0]!.filename), "-C", installed, "--strip-components=1"], dir);
  // The package's dependencies, as `npm install` would have put them (no registry needed).
  symlinkSync(join(root, "node_modules"), join(installed, "node_modules"));
  copyFileSync(join(root, "test", "client", "session-service.mjs"), join(dir, "session-service.mjs"));

  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("WARMPOOL_")));
  delete env.REDIS_URL;
  const bin = join(installed, "dist", "cmd", "warmpool.js");
  dev = spawn(
    process.execPath,
    [bin, "dev", "--pool", pool, "--metrics-port", "0", "--gateway-port", "0", "--traffic", "0"],
    { env, cwd: dir, detached: true, stdio: ["ignore", "pipe", "pipe"] },
  );
  dev.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  dev.stderr!.on("data", (d: Buffer) => (out += d.toString()));
  await waitFor("the dev banner", () => out.includes("warmpool dev is running"), 60_000, 100).catch(
    (e: Error) => {
      throw new Error(`${e.message}; output so far:\n${out}`);
    },
  );
  const gw = /gateway\s+(http:\/\/\S+)\s+token: (\S+)/.exec(out);
  const rd = /redis\s+(redis:\/\/\S+)/.exec(out);
  gateway = gw![1]!;
  token = gw![2]!;
  redis = new Redis(rd![1]!);
  await waitFor("warm bridges", () => / warm [2-9]/.test(out), 90_000, 200);
}, 180_000);

afterAll(async () => {
  redis?.disconnect();
  if (dev?.pid) {
    const exited = new Promise((r) => dev!.once("exit", r));
    process.kill(-dev.pid, "SIGINT");
    await Promise.race([exited, new Promise((r) => setTimeout(r, 15_000))]);
    try {
      process.kill(-dev.pid, "SIGKILL");
    } catch {
      /* gone */
    }
  }
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("an adopter's session service on the published package", () => {
  it("resolves only through the package's exports", () => {
    const probe = (spec: string): string =>
      run(
        process.execPath,
        ["--input-type=module", "-e", `console.log(import.meta.resolve(${JSON.stringify(spec)}))`],
        dir,
      ).trim();
    expect(probe("ecs-warmpool/client")).toBe(`file://${installed}/dist/pkg/client/index.js`);
    expect(probe("ecs-warmpool")).toBe(`file://${installed}/dist/pkg/index.js`);
    expect(existsSync(join(installed, "dist", "pkg", "client", "index.d.ts"))).toBe(true);
    // A deep import is not part of the contract and must not resolve.
    expect(() => probe("ecs-warmpool/dist/pkg/claims/index.js")).toThrow(/ERR_PACKAGE_PATH_NOT_EXPORTED/);
  });

  it("claims, heartbeats and releases through the client against warmpool dev's gateway", async () => {
    const lines = run(process.execPath, ["session-service.mjs", gateway, token, "adopter-alice"], dir)
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as Record<string, unknown> & { event: string });
    const by = Object.fromEntries(lines.map((l) => [l.event, l]));
    expect(lines.map((l) => l.event)).toEqual(["claimed", "heartbeat", "pool", "released", "refused"]);
    const claimId = by.claimed!.claimId as string;
    const taskId = by.claimed!.taskId as string;
    expect(by.heartbeat).toMatchObject({ claimId });
    expect(by.released).toMatchObject({ claimId, state: "released" });
    expect(by.refused).toMatchObject({ status: 400, kind: "invalid-input", field: "userId" });

    // Ground truth: the pool's Redis, not the program's report.
    const keys = new ClaimKeys(pool);
    expect(await redis.hget(keys.claim(claimId), "state")).toBe("released");
    expect(await redis.hget(keys.claim(claimId), "userId")).toBe("adopter-alice");
    const taskState = await redis.hget(keys.task(taskId), "state");
    expect(taskState === null || taskState === "draining").toBe(true); // never back to warm
  });

  it("every answer of the dev gateway matches the OpenAPI document", async () => {
    const checking: typeof fetch = async (input, init) => {
      const res = await fetch(input, init);
      const body = (await res.clone().text()) || "null";
      const url = new URL(String(input));
      checkResponse(
        init?.method ?? "GET",
        url.pathname,
        res.status,
        res.headers.get("content-type"),
        JSON.parse(body),
      );
      return res;
    };
    const before = checkedResponses.size;
    const client = new WarmpoolClient({ baseUrl: gateway, token, fetch: checking });
    const claim = await client.claim({ userId: "adopter-bob", waitMs: 20_000 });
    await client.heartbeat(claim.claimId);
    await client.pool();
    await client.release(claim.claimId);
    await client.release(claim.claimId); // idempotent
    const late = await client.heartbeat(claim.claimId).catch((e: unknown) => e);
    expect(late).toBeInstanceOf(GatewayError);
    expect((late as GatewayError).status).toBe(410);
    const typo = await client.claim({ userid: "x" } as never).catch((e: unknown) => e);
    expect((typo as GatewayError).problem).toMatchObject({ status: 400, field: "userid" });
    const bad = new WarmpoolClient({ baseUrl: gateway, token: "not-the-token-0123456789", fetch: checking });
    expect(((await bad.pool().catch((e: unknown) => e)) as GatewayError).status).toBe(401);
    expect(checkedResponses.size).toBeGreaterThan(before);
  });
});
