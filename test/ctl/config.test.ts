import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { ConfigStore, DEFAULT_DESIRED } from "../../pkg/config/index.js";
import { PoolKeys } from "../../pkg/keys/index.js";
import { startPrivateRedis, uniquePool, type PrivateRedis } from "../harness/index.js";
import { ctl, dumpPool } from "./env.js";

let server: PrivateRedis;
let redis: Redis;
let pool: string;
let keys: PoolKeys;
let dir: string;
const flags = (): string[] => ["--redis-url", server.url, "--pool", pool];
const run = (...args: string[]) => ctl(["ctl", ...args, ...flags()]);
const configNow = async (): Promise<unknown> => JSON.parse((await redis.get(keys.config)) ?? "null");

beforeAll(async () => {
  server = await startPrivateRedis();
  redis = new Redis(server.url);
  dir = await mkdtemp(join(tmpdir(), "ctl-test-"));
});
afterAll(async () => {
  redis?.disconnect();
  await server?.stop();
});
beforeEach(() => {
  pool = uniquePool("ctl");
  keys = new PoolKeys(pool);
});

describe("ctl config: happy paths", () => {
  it("get on a missing key prints the defaults and says so", async () => {
    const r = await run("config", "get");
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toEqual(DEFAULT_DESIRED);
    expect(r.err).toMatch(/missing: the defaults are in force/);
  });

  it("set writes the validated document, shows the diff, audits who/why/before/after, wakes the reconciler", async () => {
    const r = await ctl(
      ["ctl", "config", "set", "minWarm=8", "maxWarm=30", "--reason", "launch day", ...flags()],
      {
        env: { SUDO_USER: "alice" },
      },
    );
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/~ minWarm: 5 → 8/);
    expect(r.out).toMatch(/~ maxWarm: 20 → 30/);
    expect(await configNow()).toEqual({ ...DEFAULT_DESIRED, minWarm: 8, maxWarm: 30 });
    const [entry] = await new ConfigStore(redis, keys).history(1);
    expect(entry).toMatchObject({ result: "accepted", why: "launch day" });
    expect(entry!.who).toMatch(/^alice@/);
    expect(JSON.parse(entry!.after)).toMatchObject({ minWarm: 8 });
    const events = await redis.xrange(keys.events, "-", "+");
    expect(events.map(([, f]) => f[1])).toEqual(["config"]);

    const again = await run("config", "set", "paused=true", "taskDefinition=agent:7");
    expect(again.code).toBe(0);
    const [second] = await new ConfigStore(redis, keys).history(1);
    expect(JSON.parse(second!.before!)).toMatchObject({ minWarm: 8, paused: false });
    expect(JSON.parse(second!.after)).toMatchObject({ minWarm: 8, paused: true, taskDefinition: "agent:7" });
    expect(second!.why).toBe("ctl config set paused=true taskDefinition=agent:7");

    const removed = await run("config", "set", "taskDefinition=null");
    expect(removed.code).toBe(0);
    expect(removed.out).toMatch(/- taskDefinition: "agent:7"/);
    expect(await configNow()).not.toHaveProperty("taskDefinition");
  });

  it("set with nothing new writes nothing", async () => {
    await run("config", "set", "minWarm=6");
    const before = await dumpPool(redis, keys);
    const r = await run("config", "set", "minWarm=6");
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/no change/);
    expect(await dumpPool(redis, keys)).toEqual(before);
  });

  it("--dry-run shows the diff and writes nothing", async () => {
    await run("config", "set", "minWarm=6");
    const before = await dumpPool(redis, keys);
    const r = await run("config", "set", "minWarm=9", "--dry-run");
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/~ minWarm: 6 → 9/);
    expect(r.out).toMatch(/dry run: nothing written/);
    expect(await dumpPool(redis, keys)).toEqual(before);
  });

  it("--output json reports the write", async () => {
    const r = await run("config", "set", "maxSurge=4", "-o", "json");
    expect(r.code).toBe(0);
    const o = JSON.parse(r.out) as { written: boolean; changes: { field: string }[] };
    expect(o.written).toBe(true);
    expect(o.changes).toEqual([{ field: "maxSurge", before: 2, after: 4 }]);
  });

  it("apply -f replaces the whole document (fields left out take defaults); stdin works too", async () => {
    await run("config", "set", "minWarm=7", "maxSurge=5");
    const file = join(dir, `${pool}.json`);
    await writeFile(file, JSON.stringify({ minWarm: 2, maxWarm: 10, replenishThreshold: 1 }));
    const r = await run("config", "apply", "-f", file, "--reason", "review");
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/~ maxSurge: 5 → 2/);
    expect(await configNow()).toEqual({ ...DEFAULT_DESIRED, minWarm: 2, maxWarm: 10, replenishThreshold: 1 });
    const piped = await ctl(["ctl", "config", "apply", "-f", "-", ...flags()], { stdin: '{"minWarm":3}' });
    expect(piped.code, piped.err).toBe(0);
    expect(await configNow()).toEqual({ ...DEFAULT_DESIRED, minWarm: 3 });
  });

  it("validate -f checks a file without Redis (an unreachable URL is never dialled)", async () => {
    const good = join(dir, "good.json");
    const bad = join(dir, "bad.json");
    await writeFile(good, '{"minWarm": 4}');
    await writeFile(bad, '{"minWarm": 40, "maxwarm": 3}');
    const ok = await ctl(["ctl", "config", "validate", "-f", good, "--redis-url", "redis://127.0.0.1:1"]);
    expect(ok.code).toBe(0);
    expect(ok.out).toMatch(/valid/);
    const no = await ctl(["ctl", "config", "validate", "-f", bad, "--redis-url", "redis://127.0.0.1:1"]);
    expect(no.code).toBe(1);
    expect(no.err).toMatch(/maxwarm: unknown field; did you mean `maxWarm`\? \[unknown-field\]/);
    expect(no.err).toMatch(/minWarm: must be ≤ maxWarm .*\[invariant\]/);
  });

  it("edit runs $EDITOR on the value and writes what it saved", async () => {
    await run("config", "set", "minWarm=5");
    const editor = `sed -i -e 's/"minWarm": 5/"minWarm": 7/'`;
    const r = await ctl(["ctl", "config", "edit", "--reason", "tune", ...flags()], {
      env: { EDITOR: editor, VISUAL: "" },
    });
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/~ minWarm: 5 → 7/);
    expect(await configNow()).toMatchObject({ minWarm: 7 });
    const untouched = await ctl(["ctl", "config", "edit", ...flags()], {
      env: { EDITOR: "true", VISUAL: "" },
    });
    expect(untouched.code).toBe(0);
    expect(untouched.out).toMatch(/no change in the editor/);
  });

  it("pause and resume toggle observe-only mode, each audited; a second pause writes nothing", async () => {
    const p = await run("pause", "--reason", "incident");
    expect(p.code, p.err).toBe(0);
    expect(await configNow()).toMatchObject({ paused: true });
    const before = await dumpPool(redis, keys);
    const again = await run("pause");
    expect(again.out).toMatch(/already paused/);
    expect(await dumpPool(redis, keys)).toEqual(before);
    const r = await run("resume");
    expect(r.code).toBe(0);
    expect(await configNow()).toMatchObject({ paused: false });
    const h = await new ConfigStore(redis, keys).history(5);
    expect(h.map((e) => e.why)).toEqual(["ctl resume", "incident"]);
  });
});

describe("ctl config: invalid input names the field and the rule, and writes nothing", () => {
  const cases: { args: string[]; message: RegExp }[] = [
    {
      args: ["set", "minwarm=8"],
      message: /minwarm: unknown field; did you mean `minWarm`\? \[unknown-field\]/,
    },
    { args: ["set", "minWarm=-1"], message: /minWarm: must be at least 0 \(got -1\) \[min\]/ },
    { args: ["set", "minWarm=eight"], message: /minWarm: must be an integer .*got string "eight".*\[type\]/ },
    { args: ["set", "minWarm=2.5"], message: /minWarm: must be a whole number.*\[integer\]/ },
    {
      args: ["set", "minWarm=30"],
      message: /minWarm: must be ≤ maxWarm \(minWarm 30 > maxWarm 20\).*\[invariant\]/,
    },
    { args: ["set", "leaseSeconds=5"], message: /leaseSeconds: must be at least 10 .*\[min\]/ },
    { args: ["set", "paused=yes"], message: /paused: must be true or false .*\[type\]/ },
    {
      args: ["set", "taskDefinition=bad name!"],
      message: /taskDefinition: must be family, family:revision or arn.*\[format\]/,
    },
    {
      args: ["set", "asg.groupName=g", "asg.poolState=Frozen"],
      message: /asg.poolState: must be one of Hibernated, Stopped, Running.*\[enum\]/,
    },
    {
      args: ["set", "asg.poolState=Running"],
      message: /asg.groupName: is required when asg is given.*\[required\]/,
    },
    { args: ["set", "minWarm"], message: /"minWarm": expected key=value/ },
    { args: ["set", "minWarm="], message: /minWarm: no value/ },
    { args: ["set", "minWarm=1", "minWarm=2"], message: /minWarm: given more than once/ },
    { args: ["set", "min-warm=1"], message: /min-warm: not a field name/ },
    { args: ["rollback", "abc"], message: /rollback: N must be a positive whole number/ },
    { args: ["rollback", "9"], message: /no version 9 back: the history holds 1 earlier accepted version/ },
    { args: ["rollback", "1-0"], message: /no accepted history entry 1-0/ },
    {
      args: ["apply", "-f", "/nonexistent/desired.json"],
      message: /-f \/nonexistent\/desired.json: cannot read/,
    },
  ];
  for (const c of cases) {
    it(`${c.args.join(" ")}`, async () => {
      await run("config", "set", "minWarm=4");
      await run("config", "set", "minWarm=5");
      const before = await dumpPool(redis, keys);
      const r = await run("config", ...c.args);
      expect(r.code).toBe(1);
      expect(r.err).toMatch(c.message);
      expect(r.err).toMatch(/nothing written|nothing changed|cannot read/);
      expect(await dumpPool(redis, keys)).toEqual(before);
    });
  }

  it("apply of malformed JSON says where it broke", async () => {
    const file = join(dir, "broken.json");
    await writeFile(file, '{\n  "minWarm": 5,\n  "maxWarm": 20,,\n}');
    const before = await dumpPool(redis, keys);
    const r = await run("config", "apply", "-f", file);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/\$: malformed JSON in \S+broken.json: at line 3 column 17 .*\[json\]/);
    expect(await dumpPool(redis, keys)).toEqual(before);
  });

  it("an edit that does not validate is kept in its file, named, and nothing is written", async () => {
    await run("config", "set", "minWarm=5");
    const before = await dumpPool(redis, keys);
    const editor = `sed -i -e 's/"minWarm": 5/"minWarm": 500/'`;
    const r = await ctl(["ctl", "config", "edit", ...flags()], { env: { EDITOR: editor, VISUAL: "" } });
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/minWarm: must be ≤ maxWarm.*\[invariant\]/);
    const kept = /your edit is kept in (\S+);/.exec(r.err)?.[1];
    expect(kept).toBeDefined();
    expect(await readFile(kept!, "utf8")).toMatch(/"minWarm": 500/);
    expect(await dumpPool(redis, keys)).toEqual(before);
  });

  it("set, pause refuse to patch a key that holds an invalid value (a plain SET gone wrong)", async () => {
    await redis.set(keys.config, '{"minWarm": 5, "maxwarm": 9}');
    const before = await dumpPool(redis, keys);
    for (const args of [["config", "set", "minWarm=6"], ["pause"]]) {
      const r = await run(...args);
      expect(r.code).toBe(1);
      expect(r.err).toMatch(
        /holds an invalid desired state \(maxwarm: unknown field.*\); patching it could keep a broken field/,
      );
    }
    const g = await run("config", "get");
    expect(g.code).toBe(12);
    expect(await dumpPool(redis, keys)).toEqual(before);
  });

  it("an unknown pool name or a bad URL is refused before connecting", async () => {
    const a = await ctl(["ctl", "config", "get", "--redis-url", server.url, "--pool", "Bad_Pool"]);
    expect(a.code).toBe(2);
    expect(a.err).toMatch(/--pool: invalid pool name "Bad_Pool"/);
    const b = await ctl(["ctl", "config", "get", "--redis-url", "http://x", "--pool", pool]);
    expect(b.code).toBe(1);
    expect(b.err).toMatch(
      /--redis-url: scheme must be redis:\/\/, rediss:\/\/ \(TLS\), redis\+cluster:\/\/ or rediss\+cluster:\/\/, got "http"/,
    );
    const c = await ctl(["ctl", "config", "get", "--redis-url", server.url]);
    expect(c.code).toBe(2);
    expect(c.err).toMatch(/--pool: required \(or set WARMPOOL_POOL\)/);
  });

  it("pool and URL come from WARMPOOL_POOL / WARMPOOL_REDIS_URL", async () => {
    await run("config", "set", "minWarm=3");
    const r = await ctl(["ctl", "config", "get", "-o", "json"], {
      env: { WARMPOOL_POOL: pool, WARMPOOL_REDIS_URL: server.url },
    });
    expect(r.code, r.err).toBe(0);
    expect(JSON.parse(r.out)).toMatchObject({ minWarm: 3 });
  });

  it("unreachable Redis fails fast with the URL (password redacted) and exit 3", async () => {
    const t0 = Date.now();
    const r = await ctl([
      "ctl",
      "config",
      "get",
      "--redis-url",
      "redis://:secret@127.0.0.1:1",
      "--pool",
      pool,
    ]);
    expect(r.code).toBe(3);
    expect(r.err).toMatch(
      /cannot reach Redis at redis:\/\/:\*\*\*@127.0.0.1:1.*ECONNREFUSED.*WARMPOOL_REDIS_URL/,
    );
    expect(r.err).not.toMatch(/secret/);
    expect(Date.now() - t0).toBeLessThan(30_000);
  });
});

describe("ctl config: concurrency, history and rollback", () => {
  it("a change made while on-call looks at the diff is refused, never overwritten", async () => {
    await run("config", "set", "minWarm=5");
    let other: Awaited<ReturnType<typeof run>> | undefined;
    const r = await ctl(["ctl", "config", "set", "minWarm=9", "--reason", "mine", ...flags()], {
      // While the first operator reads the diff, a second one changes maxWarm.
      confirm: async () => {
        other = await ctl(["ctl", "config", "set", "maxWarm=25", "--reason", "theirs", ...flags()], {
          env: { SUDO_USER: "bob" },
        });
        return true;
      },
    });
    expect(other?.code).toBe(0);
    expect(r.code).toBe(4);
    expect(r.err).toMatch(
      /refused: the desired state changed since it was read \(last change .* ago by bob@.*: theirs\); nothing written/,
    );
    expect(await configNow()).toMatchObject({ minWarm: 5, maxWarm: 25 });
    const h = await new ConfigStore(redis, keys).history(10);
    expect(h.map((e) => e.why)).toEqual(["theirs", "ctl config set minWarm=5"]);
  });

  it("concurrent sets from separate connections: each one either lands on the value it read or is refused; no lost update", async () => {
    await run("config", "set", "replenishThreshold=0", "minWarm=0", "maxWarm=100");
    const n = 8;
    const results = await Promise.all(
      Array.from({ length: n }, (_, i) =>
        run("config", "set", `minWarm=${i + 1}`, "--reason", `racer ${i + 1}`),
      ),
    );
    for (const r of results) expect([0, 4]).toContain(r.code);
    const won = results.filter((r) => r.code === 0).length;
    const refused = results.filter((r) => r.code === 4);
    expect(won).toBeGreaterThanOrEqual(1);
    for (const r of refused) expect(r.err).toMatch(/refused: the desired state changed since it was read/);
    const h = (await new ConfigStore(redis, keys).history(50)).filter((e) => e.why?.startsWith("racer"));
    expect(h).toHaveLength(won);
    // The chain of accepted writes links up: each one's before is the previous one's after.
    const chain = [...h].reverse();
    for (let i = 1; i < chain.length; i++) expect(chain[i]!.before).toBe(chain[i - 1]!.after);
    expect(await redis.get(keys.config)).toBe(h[0]!.after);
  });

  it("history lists who changed what; rollback (1, N, or an id) restores an earlier version through the same audited write", async () => {
    await run("config", "set", "minWarm=3", "--reason", "v1");
    await run("config", "set", "minWarm=4", "--reason", "v2");
    await run("config", "set", "minWarm=6", "maxSurge=3", "--reason", "v3");
    const h = await run("config", "history");
    expect(h.code).toBe(0);
    const lines = h.out.trim().split("\n");
    expect(lines[0]).toMatch(/^BACK\s+WHEN\s+AGO\s+RESULT\s+WHO\s+WHY\s+CHANGE$/);
    expect(lines[1]).toMatch(/^\s*0 .* accepted .* v3\s+minWarm 4→6, maxSurge 2→3$/);
    expect(lines[2]).toMatch(/^\s*1 .* v2\s+minWarm 3→4$/);
    expect(lines[3]).toMatch(/^\s*2 .* v1\s+vs defaults: minWarm 5→3$/);

    const undo = await run("config", "rollback", "--reason", "bad surge");
    expect(undo.code, undo.err).toBe(0);
    expect(undo.out).toMatch(/~ minWarm: 6 → 4/);
    expect(await configNow()).toMatchObject({ minWarm: 4, maxSurge: 2 });
    const [entry] = await new ConfigStore(redis, keys).history(1);
    expect(entry!.why).toMatch(/^bad surge \(ctl config rollback to \d+-\d+/);

    const two = await run("config", "rollback", "2");
    expect(two.code).toBe(0);
    expect(await configNow()).toMatchObject({ minWarm: 4 });
    const json = await run("config", "history", "-o", "json");
    const rows = JSON.parse(json.out) as { id: string; why: string }[];
    const v1 = rows.find((e) => e.why === "v1")!;
    const byId = await run("config", "rollback", v1.id);
    expect(byId.code).toBe(0);
    expect(await configNow()).toMatchObject({ minWarm: 3 });
  });

  it("rollback --dry-run shows the diff and writes nothing", async () => {
    await run("config", "set", "minWarm=3");
    await run("config", "set", "minWarm=4");
    const before = await dumpPool(redis, keys);
    const r = await run("config", "rollback", "--dry-run");
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/~ minWarm: 4 → 3/);
    expect(await dumpPool(redis, keys)).toEqual(before);
  });
});
