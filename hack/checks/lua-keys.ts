/**
 * Static check of the Lua scripts: every key a `redis.call` / `redis.pcall` touches must be written
 * `KEYS[…]`. Redis Cluster routes a script by the keys it declares; a key built inside the script
 * (`ARGV[5] .. taskId`, `KEYS[1] .. ':inbox'`), read from a record or held in a variable is not
 * declared, and breaks when its slot moves. Keys known only from data are declared by the caller
 * on the script's request (pkg/util/lua/extra-keys.lua).
 *
 * `npx tsx hack/checks/lua-keys.ts` checks every pkg/**\/*.lua and exits 1 on a finding.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";

/** Commands the scripts use, by where their keys are: the first argument, every argument, none. */
const FIRST_ARG = new Set(
  (
    "GET SET INCR HGET HMGET HSET HSETNX HGETALL HDEL ZADD ZREM ZSCORE ZRANGE ZRANDMEMBER ZRANGEBYSCORE " +
    "ZREMRANGEBYSCORE ZCARD ZCOUNT ZPOPMIN SADD SREM SMEMBERS SCARD SISMEMBER LPOP RPUSH LLEN " +
    "LRANGE LINDEX LREM XADD XRANGE XREVRANGE PEXPIRE PEXPIREAT PTTL EXPIRE TTL"
  ).split(" "),
);
const ALL_ARGS = new Set(["DEL", "EXISTS", "UNLINK"]);
const NO_KEYS = new Set(["TIME", "PUBLISH"]);

export interface LuaKeyProblem {
  file: string;
  line: number;
  message: string;
}

/** The problems of one script's source. */
export function checkLuaKeys(source: string, file = "<lua>"): LuaKeyProblem[] {
  const code = stripComments(source);
  const problems: LuaKeyProblem[] = [];
  const re = /\bredis\.p?call\s*\(/g;
  for (let m = re.exec(code); m; m = re.exec(code)) {
    const line = code.slice(0, m.index).split("\n").length;
    const args = splitArgs(code, m.index + m[0].length);
    const report = (message: string): void => void problems.push({ file, line, message });
    const name = /^(['"])([A-Za-z]+)\1$/.exec(args[0] ?? "");
    if (!name) {
      report(`the command must be a string literal, got ${args[0] ?? "nothing"} (keys cannot be checked)`);
      continue;
    }
    const cmd = name[2]!.toUpperCase();
    let keys: string[];
    if (NO_KEYS.has(cmd)) keys = [];
    else if (FIRST_ARG.has(cmd)) keys = args.slice(1, 2);
    else if (ALL_ARGS.has(cmd)) keys = args.slice(1);
    else {
      report(`${cmd}: unknown to this check; add where its keys are`);
      continue;
    }
    if (keys.length === 0 && !NO_KEYS.has(cmd)) report(`${cmd} without a key`);
    for (const k of keys) {
      if (!isKeysRef(k))
        report(
          `${cmd} touches ${k}: a key must be KEYS[…]${k.includes("..") ? " (this one is built inside the script)" : ""}`,
        );
    }
  }
  return problems;
}

/** `KEYS[expr]` and nothing else: the bracket opened after KEYS closes at the end. */
function isKeysRef(expr: string): boolean {
  if (!expr.startsWith("KEYS[") || !expr.endsWith("]")) return false;
  let depth = 0;
  for (let i = 4; i < expr.length; i++) {
    if (expr[i] === "[") depth++;
    else if (expr[i] === "]" && --depth === 0) return i === expr.length - 1;
  }
  return false;
}

/** Lua without comments; strings kept, newlines kept (line numbers stay right). */
function stripComments(src: string): string {
  let out = "";
  for (let i = 0; i < src.length;) {
    const c = src[i]!;
    if (c === "'" || c === '"') {
      const end = stringEnd(src, i);
      out += src.slice(i, end);
      i = end;
    } else if (src.startsWith("--[[", i)) {
      const end = src.indexOf("]]", i + 4);
      const stop = end < 0 ? src.length : end + 2;
      out += src.slice(i, stop).replace(/[^\n]/g, " ");
      i = stop;
    } else if (src.startsWith("--", i)) {
      const end = src.indexOf("\n", i);
      i = end < 0 ? src.length : end;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

function stringEnd(src: string, i: number): number {
  const q = src[i];
  let j = i + 1;
  while (j < src.length && src[j] !== q) j += src[j] === "\\" ? 2 : 1;
  return j + 1;
}

/** The top-level, trimmed arguments of the call whose `(` ends just before `from`. */
function splitArgs(code: string, from: number): string[] {
  const args: string[] = [];
  let depth = 0;
  let cur = "";
  for (let i = from; i < code.length;) {
    const c = code[i]!;
    if (c === "'" || c === '"') {
      const end = stringEnd(code, i);
      cur += code.slice(i, end);
      i = end;
      continue;
    }
    if (c === "(" || c === "[" || c === "{") depth++;
    if (c === ")" || c === "]" || c === "}") {
      if (depth === 0) break;
      depth--;
    }
    if (c === "," && depth === 0) {
      args.push(cur.trim());
      cur = "";
    } else cur += c;
    i++;
  }
  if (cur.trim() !== "") args.push(cur.trim());
  return args;
}

/** Every .lua file under `dir` (recursively). */
export function luaFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...luaFiles(p));
    else if (e.name.endsWith(".lua")) out.push(p);
  }
  return out.sort();
}

/** The problems of every script under `root`/pkg. */
export function checkTree(root: string): LuaKeyProblem[] {
  return luaFiles(join(root, "pkg")).flatMap((f) => checkLuaKeys(readFileSync(f, "utf8"), relative(root, f)));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const root = join(fileURLToPath(import.meta.url), "../../..");
  const problems = checkTree(root);
  for (const p of problems) console.error(`${p.file}:${p.line}: ${p.message}`);
  if (problems.length > 0) process.exit(1);
  console.log(`lua-keys: ${luaFiles(join(root, "pkg")).length} scripts, every key declared in KEYS`);
}
