import { spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { cliEntry, packageRoot } from "../../pkg/util/index.js";
import { uniquePool, waitFor } from "../harness/index.js";

/** PIDs of live processes whose environment names this pool (the dev bridges), from /proc. */
function processesOfPool(pool: string): number[] {
  const out: number[] = [];
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const env = readFileSync(`/proc/${d}/environ`, "utf8");
      if (env.split("\0").includes(`WARMPOOL_POOL=${pool}`)) out.push(Number(d));
    } catch {
      /* gone, or not ours to read */
    }
  }
  return out;
}

describe("warmpool dev", () => {
  const pool = uniquePool("dev");
  let pid: number | undefined;
  afterAll(() => {
    if (pid) {
      try {
        process.kill(-pid, "SIGKILL");
      } catch {
        /* already gone */
      }
    }
    for (const p of processesOfPool(pool)) process.kill(p, "SIGKILL");
  });

  it("brings a pool of real bridge processes to warm, and Ctrl-C leaves no process behind", async () => {
    expect(existsSync(join(packageRoot(), "dist", "cmd", "dev.js")), "run `npx tsc -p .` first").toBe(true);
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("WARMPOOL_")));
    delete env.REDIS_URL;
    const child = spawn(
      process.execPath,
      [cliEntry(), "dev", "--pool", pool, "--metrics-port", "0", "--gateway-port", "0", "--traffic", "0"],
      { env, detached: true, stdio: ["ignore", "pipe", "pipe"] },
    );
    pid = child.pid;
    let out = "";
    child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr!.on("data", (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));

    await waitFor("the banner", () => out.includes("warmpool dev is running"), 60_000, 100).catch(
      (e: Error) => {
        throw new Error(`${e.message}; output so far:\n${out}`);
      },
    );
    // The private redis-server runs with the ACL users; the banner shows on-call's (ctl) URL.
    expect(out).toMatch(/redis\s+redis:\/\/warmpool-ctl:[^@\s]+@127\.0\.0\.1:\d+/);
    expect(out).toMatch(/ECS\s+http:\/\/127\.0\.0\.1:\d+/);
    expect(out).toMatch(/\/metrics/);
    await waitFor("5 warm bridges", () => /warm 5 /.test(out), 90_000, 200);
    expect(processesOfPool(pool).length).toBeGreaterThanOrEqual(5);
    // Every bridge runs on the bridge's ACL user.
    for (const p of processesOfPool(pool)) {
      const url = readFileSync(`/proc/${p}/environ`, "utf8")
        .split("\0")
        .find((l) => l.startsWith("WARMPOOL_REDIS_URL="));
      if (url) expect(url).toMatch(/^WARMPOOL_REDIS_URL=redis:\/\/warmpool-bridge:/);
    }

    process.kill(-pid!, "SIGINT"); // what a terminal's Ctrl-C does: the whole foreground group
    expect(await exited).toBe(0);
    await waitFor("no process of the pool left", () => processesOfPool(pool).length === 0, 10_000, 100);
    pid = undefined;
  });
});
