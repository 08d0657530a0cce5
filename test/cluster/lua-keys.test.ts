import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { checkLuaKeys, checkTree, luaFiles } from "../../hack/checks/lua-keys.js";
import { packageRoot } from "../../pkg/util/index.js";

const root = packageRoot();

describe("Lua scripts declare every key they touch (Redis Cluster)", () => {
  it("every pkg/**/*.lua passes: each key a redis.call touches is KEYS[…]", () => {
    expect(luaFiles(join(root, "pkg")).length).toBeGreaterThanOrEqual(20);
    expect(checkTree(root)).toEqual([]);
  });

  it("finds a key built from a prefix, a key held in a variable, a key read from a record", () => {
    const found = checkLuaKeys(
      [
        "local taskKey = ARGV[5] .. taskId",
        "redis.call('HGET', ARGV[5] .. taskId, 'state')",
        "redis.call('RPUSH', KEYS[1] .. ':inbox', 'x')",
        "redis.call('HSET', taskKey, 'state', 'warm')",
        "local q = redis.call('HGET', KEYS[1], 'userQuota')",
        "redis.call('ZREM', q, claimId)",
        "redis.call('DEL', KEYS[2], c[5])",
        "redis.call(unpack(entry))",
        "redis.call('SCAN', 0)",
      ].join("\n"),
    );
    expect(found.map((p) => p.line)).toEqual([2, 3, 4, 6, 7, 8, 9]);
    expect(found[0]!.message).toMatch(
      /HGET touches ARGV\[5\] \.\. taskId: a key must be KEYS\[…\] \(this one is built/,
    );
  });

  it("accepts declared keys, nested indexes, keyless commands, and ignores comments", () => {
    const ok = checkLuaKeys(
      [
        "--[[ redis.call('GET', ARGV[1] .. 'x') in a comment ]]",
        "-- redis.call('GET', prefix .. id)",
        "local t = redis.call('TIME')",
        "redis.call('PUBLISH', ARGV[4], cjson.encode({a = 1}))",
        "redis.call('HGET', KEYS[x.task[taskId]], 'state')",
        'redis.call("DEL", KEYS[1], KEYS[2])',
      ].join("\n"),
    );
    expect(ok).toEqual([]);
  });

  it("fails when a prefix build is put back into claim-8+.lua", () => {
    const file = join(root, "pkg/claims/lua/claim-8+.lua");
    const src = readFileSync(file, "utf8");
    expect(checkLuaKeys(src)).toEqual([]);
    const broken = src.replace(
      "redis.call('HGET', KEYS[ti], 'state')",
      "redis.call('HGET', ARGV[5] .. taskId, 'state')",
    );
    expect(broken).not.toBe(src);
    expect(checkLuaKeys(broken, "claim-8+.lua")).toMatchObject([
      { file: "claim-8+.lua", message: expect.stringMatching(/built inside the script/) },
    ]);
  });
});
