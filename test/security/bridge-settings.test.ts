/**
 * Settings that would hand the agent a secret or run it unisolated are refused before the bridge
 * does anything: exit 2 and a message naming the flag and the rule.
 */
import { spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cliEntry } from "../../pkg/util/index.js";

const ARN = "arn:aws:ecs:us-east-1:000000000000:task/test/0123456789abcdef";
let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "wp-settings-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function bridge(args: string[]): { status: number | null; stderr: string } {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env))
    if (v !== undefined && !k.startsWith("WARMPOOL_")) env[k] = v;
  const r = spawnSync(
    process.execPath,
    [cliEntry(), "bridge", "--pool", "p", "--workspace-root", dir, "--task-arn", ARN, ...args],
    { env, encoding: "utf8", timeout: 30_000 },
  );
  return { status: r.status, stderr: r.stderr };
}

describe("bridge settings that would leak or share", { timeout: 60_000 }, () => {
  it("a Redis URL with a password on the command line", () => {
    const r = bridge(["--redis-url", "redis://:hunter2@127.0.0.1:1"]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(
      /--redis-url: a URL with a password on the command line is readable by every process/,
    );
    expect(r.stderr).not.toContain("hunter2");
  });

  it("a secret file others can read, or that is a symlink", () => {
    const f = join(dir, "url");
    writeFileSync(f, "redis://:hunter2@127.0.0.1:1");
    chmodSync(f, 0o644);
    const r = bridge(["--redis-url-file", f]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--redis-url-file: .* has mode 644; it must be 0400 or 0600/);
    chmodSync(f, 0o400);
    symlinkSync(f, join(dir, "link"));
    const l = bridge(["--redis-url-file", join(dir, "link")]);
    expect(l.status).toBe(2);
    expect(l.stderr).toMatch(/--redis-url-file: cannot open .*link \(ELOOP\)/);
  });

  it.skipIf(process.getuid?.() !== 0)("shared isolation as root (agents would run as root)", () => {
    const r = bridge(["--isolation", "shared"]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/isolation: 'shared' as root would run every agent as root/);
  });

  it.skipIf(process.getuid?.() !== 0)("per-user isolation without the capabilities it needs", () => {
    const r = spawnSync(
      "setpriv",
      [
        "--bounding-set",
        "-all,+chown,+setuid",
        "--",
        process.execPath,
        cliEntry(),
        "bridge",
        "--pool",
        "p",
        "--workspace-root",
        dir,
        "--task-arn",
        ARN,
      ],
      { encoding: "utf8", timeout: 30_000 },
    );
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/per-user needs CAP_KILL .*, CAP_SETGID/);
  });
});
