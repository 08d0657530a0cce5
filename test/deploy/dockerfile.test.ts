/**
 * No Dockerfile linter is packaged for this machine, so these tests check what hadolint would
 * care about most, from the files themselves, plus the health-check script against a real server.
 */
import { execFile } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { readDockerfile, type Stage } from "./dockerfile.js";

const FILES = ["deploy/docker/Dockerfile", "deploy/docker/bridge.Dockerfile"];
/** Build arguments that must be given (by digest) and so have no default. */
const REQUIRED_ARGS = new Set(["AGENT_IMAGE", "WARMPOOL_IMAGE"]);

const finalStage = (stages: Stage[]): Stage => stages[stages.length - 1]!;
const ops = (s: Stage, op: string) => s.instructions.filter((i) => i.op === op);

describe.each(FILES)("%s", (path) => {
  const df = readDockerfile(path);
  const aliases = new Set(df.stages.map((s) => s.alias).filter((a): a is string => a !== null));

  it("is multi-stage", () => {
    expect(df.stages.length).toBeGreaterThanOrEqual(2);
  });

  it("every base image is a pinned version or digest, never latest", () => {
    for (const s of df.stages) {
      if (aliases.has(s.rawBase)) continue;
      if (s.base === null) {
        const arg = /^\$\{?(\w+)\}?$/.exec(s.rawBase)?.[1];
        expect(REQUIRED_ARGS.has(arg ?? ""), `${s.rawBase}: an ARG without a default`).toBe(true);
        continue;
      }
      expect(s.base, s.rawBase).not.toMatch(/:latest(@|$)/);
      expect(s.base, s.rawBase).toMatch(/@sha256:[0-9a-f]{64}$|:\d+\.\d+\.\d+[-\w.]*$/);
    }
  });

  // The bridge image alone starts as root: the bridge needs CAP_SETUID/SETGID/CHOWN/KILL to run
  // each agent as its user's own UID, and refuses per-user isolation without them.
  const bridge = path.endsWith("bridge.Dockerfile");
  it(
    bridge
      ? "starts as root, with per-user isolation required"
      : "runs as a non-root user, set before the entrypoint",
    () => {
      const last = finalStage(df.stages);
      const users = ops(last, "USER");
      expect(users.length).toBeGreaterThan(0);
      const user = users[users.length - 1]!;
      if (bridge) {
        expect(user.args).toMatch(/^(root|0)(:(root|0))?$/);
        expect(
          ops(last, "ENV")
            .map((e) => e.args)
            .join(" "),
        ).toMatch(/WARMPOOL_ISOLATION=per-user/);
      } else expect(user.args).not.toMatch(/^(root|0)(:|$)/);
      const entry = ops(last, "ENTRYPOINT")[0]!;
      expect(user.line).toBeLessThan(entry.line);
      for (const run of ops(last, "RUN"))
        expect(run.line, "RUN after USER runs as the user").toBeLessThan(user.line);
    },
  );

  it("has a health check", () => {
    const hc = ops(finalStage(df.stages), "HEALTHCHECK");
    expect(hc).toHaveLength(1);
    expect(hc[0]!.args).toMatch(/CMD/);
  });

  it("bakes in no secret and fetches nothing at build time", () => {
    for (const s of df.stages) {
      for (const i of s.instructions) {
        if (i.op === "ENV" || i.op === "ARG") {
          expect(i.args, `${path}:${i.line}`).not.toMatch(
            /(SECRET|TOKEN|PASSWORD|REDIS_URL|ACCESS_KEY)\w*\s*=/i,
          );
        }
        expect(i.op, `${path}:${i.line}`).not.toBe("ADD");
        expect(i.args, `${path}:${i.line}`).not.toMatch(/curl|wget/);
      }
    }
  });

  it("copies only files that exist and that its .dockerignore lets through", () => {
    const ignore = readFileSync(`${path}.dockerignore`, "utf8").split("\n");
    // Deny by default: the first pattern excludes everything, later ones let files back in.
    expect(ignore.filter((l) => l.trim() && !l.startsWith("#"))[0]).toBe("**");
    for (const s of df.stages) {
      for (const c of ops(s, "COPY").filter((i) => !i.args.includes("--from="))) {
        const parts = c.args.split(/\s+/).filter((p) => !p.startsWith("--"));
        for (const src of parts.slice(0, -1)) {
          expect(existsSync(src), `${path}:${c.line} ${src}`).toBe(true);
          const allowed = ignore.includes(`!${src}`) || ignore.includes(`!${src}/**`);
          expect(allowed, `${path}:${c.line}: ${src} is not let through by the .dockerignore`).toBe(true);
        }
      }
    }
  });
});

describe("the image's layout", () => {
  it("drops compiled tests, so nothing the CLI loads may import from test/", () => {
    const df = readFileSync("deploy/docker/Dockerfile", "utf8");
    expect(df).toContain("rm -rf /out/dist/test");
    const sources = ["cmd", "pkg", "hack"].flatMap((d) =>
      readdirSync(d, { recursive: true, encoding: "utf8" })
        .filter((f) => f.endsWith(".ts") && !f.endsWith(".test.ts"))
        .map((f) => join(d, f)),
    );
    expect(sources.length).toBeGreaterThan(20);
    for (const f of sources) {
      expect(readFileSync(f, "utf8"), f).not.toMatch(/from "(\.\.\/)+test\//);
    }
  });
});

describe("deploy/docker/healthcheck.mjs", () => {
  const run = (url: string) =>
    new Promise<{ status: number | null; stderr: string }>((resolve) => {
      execFile(
        process.execPath,
        ["deploy/docker/healthcheck.mjs", url],
        { timeout: 20_000 },
        (err, _o, stderr) =>
          resolve({ status: err ? (typeof err.code === "number" ? err.code : null) : 0, stderr }),
      );
    });

  it("is healthy on 2xx and unhealthy on 5xx or no answer", async () => {
    let status = 200;
    const server = createServer((_req, res) => res.writeHead(status).end());
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const { port } = server.address() as AddressInfo;
    try {
      const url = `http://127.0.0.1:${port}/healthz`;
      const ok = await run(url);
      expect(ok.status, ok.stderr).toBe(0);
      status = 503;
      const bad = await run(url);
      expect(bad.status).toBe(1);
      expect(bad.stderr).toMatch(/answered 503/);
    } finally {
      server.close();
    }
    const gone = await run(`http://127.0.0.1:${port}/healthz`);
    expect(gone.status).toBe(1);
    expect(gone.stderr).toMatch(/unhealthy/);
  });
});
