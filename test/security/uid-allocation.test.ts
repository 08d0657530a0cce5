/**
 * Per-user UIDs recorded on the filesystem (pkg/bridge/uid-allocator.ts) and per-user workspaces
 * (preparePrivateWorkspace, secureRoot): two bridges racing never give one UID to two users, the
 * record survives without Redis (there is none here), lost records are rebuilt from directory
 * owners, and a workspace owned by anyone but its user is refused.
 */
import {
  chmodSync,
  chownSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readlinkSync,
  rmSync,
  symlinkSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  FsUidAllocator,
  preparePrivateWorkspace,
  secureRoot,
  UID_DIR,
  WorkspaceRefused,
} from "../../pkg/bridge/index.js";

const asRoot = process.getuid?.() === 0;
const BASE = 200_000;
let base: string;
let root: string;
beforeEach(() => {
  base = mkdtempSync(join(tmpdir(), "wp-uids-"));
  chmodSync(base, 0o711);
  root = join(base, "ws");
  mkdirSync(root);
});
afterEach(() => rmSync(base, { recursive: true, force: true }));

async function allocator(): Promise<FsUidAllocator> {
  const a = new FsUidAllocator(root, BASE);
  await a.init();
  return a;
}

describe("per-user UIDs on the filesystem", () => {
  it("two bridges allocating at once: one UID per user, never one UID for two users", async () => {
    const [a, b] = [await allocator(), await allocator()];
    const users = Array.from({ length: 40 }, (_, i) => `user-${i}`);
    const [fromA, fromB] = await Promise.all([
      Promise.all(users.map((u) => a.uidFor(u))),
      Promise.all([...users].reverse().map((u) => b.uidFor(u))),
    ]);
    fromB.reverse();
    expect(fromA).toEqual(fromB);
    expect(new Set(fromA).size).toBe(users.length);
    for (const uid of fromA) expect(uid).toBeGreaterThan(BASE);
    // Ground truth: every by-uid record names exactly one user, and each user's number is its own.
    const byUid = join(root, UID_DIR, "by-uid");
    const owners = new Map<string, string>();
    for (const n of readdirSync(byUid)) owners.set(n, readlinkSync(join(byUid, n)));
    users.forEach((u, i) => expect(owners.get(String(fromA[i]! - BASE))).toBe(u));
    // A new process (a bridge after a restart, Redis or no Redis) sees the same answers.
    const c = await allocator();
    expect(await Promise.all(users.map((u) => c.uidFor(u)))).toEqual(fromA);
  });

  it("refuses an id for uid-base out of range, names the rule", () => {
    expect(() => new FsUidAllocator(root, 10)).toThrow(/uid-base: must be an integer from 1000/);
  });

  it("records lost: an existing workspace's owner is adopted, and no one else gets that UID", async () => {
    const a = await allocator();
    const ann = await a.uidFor("ann");
    mkdirSync(join(root, "ann"));
    chownSync(join(root, "ann"), ann, ann);
    rmSync(join(root, UID_DIR), { recursive: true });
    const b = await allocator();
    const ben = await b.uidFor("ben"); // before ann is seen again: must not take ann's number
    expect(await b.uidFor("ann")).toBe(ann);
    expect(ben).not.toBe(ann);
  });

  it("a record that contradicts itself is refused, not guessed", async () => {
    const a = await allocator();
    const uid = await a.uidFor("ann");
    rmSync(join(root, UID_DIR, "by-user", "ann"));
    symlinkSync(String(uid - BASE), join(root, UID_DIR, "by-user", "eve"));
    await expect(a.uidFor("eve")).rejects.toThrow(/recorded for "ann"/);
  });
});

describe.skipIf(!asRoot)("per-user workspaces", () => {
  it("secureRoot: makes its own root 0711; refuses a root owned by someone else or behind a closed ancestor", async () => {
    chmodSync(root, 0o777);
    expect(await secureRoot(root)).toBe(root);
    expect(lstatSync(root).mode & 0o7777).toBe(0o711);
    chownSync(root, 1000, 1000);
    await expect(secureRoot(root)).rejects.toThrow(/owned by uid 1000/);
    chownSync(root, 0, 0);
    chmodSync(base, 0o700);
    await expect(secureRoot(root)).rejects.toThrow(/not searchable by others/);
  });

  it("creates 0700 owned by the user; refuses a symlink or a directory owned by another uid; takes over a half-made one", async () => {
    await secureRoot(root);
    const owner = { uid: BASE + 7, gid: BASE + 7 };
    const dir = await preparePrivateWorkspace(root, "ann", owner);
    expect(lstatSync(dir)).toMatchObject({ uid: owner.uid, gid: owner.gid });
    expect(lstatSync(dir).mode & 0o777).toBe(0o700);
    expect(await preparePrivateWorkspace(root, "ann", owner)).toBe(dir);

    await expect(preparePrivateWorkspace(root, "ann", { uid: BASE + 8, gid: BASE + 8 })).rejects.toThrow(
      /owned by uid 200007, not ann's uid 200008/,
    );
    symlinkSync(dir, join(root, "eve"));
    await expect(preparePrivateWorkspace(root, "eve", owner)).rejects.toBeInstanceOf(WorkspaceRefused);
    expect(lstatSync(dir).uid).toBe(owner.uid);

    mkdirSync(join(root, "half"), { mode: 0o755 }); // a bridge stopped between mkdir and chown
    const half = await preparePrivateWorkspace(root, "half", owner);
    expect(lstatSync(half)).toMatchObject({ uid: owner.uid });
    expect(lstatSync(half).mode & 0o777).toBe(0o700);
    await expect(preparePrivateWorkspace(root, "../x", owner)).rejects.toThrow(/userId: /);
  });
});
