/**
 * Per-user UIDs recorded on the shared filesystem itself, so they survive the loss of Redis and
 * no UID is ever handed to a second user (docs/security.md, "Per-user UIDs").
 *
 * Under `<root>/.warmpool-uids/` (root-owned, 0700; a user id can never start with "." so this
 * name cannot be a workspace) two directories of symbolic links, used only as atomic records:
 *   by-uid/<n>       → userId   n is taken, forever, by that user
 *   by-user/<userId> → n        the user's UID is base + n
 * `symlink(2)` fails with EEXIST when the name exists, atomically, on a local filesystem and on
 * NFSv4 (EFS) alike: the server performs the CREATE and answers NFS4ERR_EXIST to the loser. So
 * `by-uid/<n>` is the lock on a number: whoever creates it owns n. Then `by-user/<id>` is created;
 * if another bridge allocated for the same user at the same moment and won that link, its number
 * is the user's and ours stays reserved to the same user, unused (a wasted number, never a shared
 * one). Nothing is ever deleted. `next` (a symlink replaced by rename) is only where probing starts.
 *
 * Recovery: when the records are empty (lost, or a root that predates them), `init` first records
 * the owner of every `<root>/<userId>` directory whose UID is in range, so no number in use is
 * handed out again; and a user found without a record later is adopted the same way. A number
 * recorded for someone else is refused rather than guessed. (Records are root-only: agents cannot
 * delete them; an operator deleting some but not all of them is not detected.)
 */
import { randomBytes } from "node:crypto";
import { lstat, mkdir, readdir, readlink, rename, symlink } from "node:fs/promises";
import { checkUserId } from "../claims/index.js";
import { join } from "node:path";
import { WorkspaceRefused } from "./workspace.js";

export const UID_DIR = ".warmpool-uids";
/** Highest UID handed out: below 2^31 - 1 (and the overflow UID 65534 is below any sane base). */
export const MAX_UID = 2 ** 31 - 2;

export interface UidAllocator {
  uidFor(userId: string): Promise<number>;
}

function code(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException).code;
}

async function readLink(path: string): Promise<string | undefined> {
  try {
    return await readlink(path);
  } catch (e) {
    if (code(e) === "ENOENT") return undefined;
    throw e;
  }
}

async function link(target: string, path: string): Promise<boolean> {
  try {
    await symlink(target, path);
    return true;
  } catch (e) {
    if (code(e) === "EEXIST") return false;
    throw e;
  }
}

export class FsUidAllocator implements UidAllocator {
  private readonly byUid: string;
  private readonly byUser: string;

  /** `userIds` must already be validated (one safe path segment). */
  constructor(
    private readonly root: string,
    readonly base: number,
  ) {
    if (!Number.isInteger(base) || base < 1000 || base >= MAX_UID)
      throw new Error(`uid-base: must be an integer from 1000 to ${MAX_UID - 1} (got ${base})`);
    this.byUid = join(root, UID_DIR, "by-uid");
    this.byUser = join(root, UID_DIR, "by-user");
  }

  async init(): Promise<void> {
    await mkdir(join(this.root, UID_DIR), { mode: 0o700 }).catch(ignoreExists);
    await mkdir(this.byUid, { mode: 0o700 }).catch(ignoreExists);
    await mkdir(this.byUser, { mode: 0o700 }).catch(ignoreExists);
    const st = await lstat(join(this.root, UID_DIR));
    if (!st.isDirectory() || st.uid !== process.getuid?.() || (st.mode & 0o077) !== 0)
      throw new Error(
        `${join(this.root, UID_DIR)} must be a directory owned by the bridge's uid with mode 0700`,
      );
    if ((await readdir(this.byUid)).length === 0) await this.rebuild();
  }

  /** Records the owners of the workspaces already there (one pass over the root). */
  private async rebuild(): Promise<void> {
    for (const name of await readdir(this.root)) {
      if (name === UID_DIR || !checkUserId(name, /^.+$/).ok) continue;
      await this.adopt(name).catch(() => undefined); // a conflict is refused when that user comes
    }
  }

  async uidFor(userId: string): Promise<number> {
    const known = await this.recorded(userId);
    if (known !== undefined) return known;
    const adopted = await this.adopt(userId);
    if (adopted !== undefined) return adopted;
    let n = await this.firstCandidate();
    for (; ; n++) {
      if (this.base + n > MAX_UID) throw new Error("per-user UIDs: the UID range is exhausted");
      if (await link(userId, join(this.byUid, String(n)))) break;
    }
    await this.saveHint(n + 1);
    if (await link(String(n), join(this.byUser, userId))) return this.base + n;
    // Another bridge recorded this user first: its number is the user's; ours stays reserved.
    const theirs = await this.recorded(userId);
    if (theirs === undefined) throw new Error(`per-user UIDs: the record of ${userId} vanished`);
    return theirs;
  }

  /**
   * Where to start probing: the `next` hint (a symlink replaced atomically by rename; only a hint,
   * the by-uid links decide), else the count of numbers taken. A stale hint costs a few EEXIST.
   */
  private async firstCandidate(): Promise<number> {
    const v = await readLink(join(this.root, UID_DIR, "next"));
    if (v !== undefined && /^[1-9]\d{0,9}$/.test(v)) return Number(v);
    return (await readdir(this.byUid)).length + 1;
  }

  private async saveHint(next: number): Promise<void> {
    const tmp = join(this.root, UID_DIR, `next.${randomBytes(6).toString("hex")}`);
    await symlink(String(next), tmp);
    await rename(tmp, join(this.root, UID_DIR, "next"));
  }

  private async recorded(userId: string): Promise<number | undefined> {
    const v = await readLink(join(this.byUser, userId));
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!/^[1-9]\d{0,9}$/.test(v) || this.base + n > MAX_UID)
      throw new WorkspaceRefused(`per-user UIDs: the record of ${userId} is corrupt (${JSON.stringify(v)})`);
    const owner = await readLink(join(this.byUid, v));
    if (owner !== userId)
      throw new WorkspaceRefused(
        `per-user UIDs: ${userId} is recorded with n=${v}, but n=${v} is recorded for ${JSON.stringify(owner)}`,
      );
    return this.base + n;
  }

  /** Records lost, workspace kept: take the owner of `<root>/<userId>` if the number is free. */
  private async adopt(userId: string): Promise<number | undefined> {
    const st = await lstat(join(this.root, userId)).catch((e: unknown) => {
      if (code(e) === "ENOENT") return undefined;
      throw e;
    });
    if (!st?.isDirectory() || st.uid <= this.base || st.uid > MAX_UID) return undefined;
    const n = String(st.uid - this.base);
    if (!(await link(userId, join(this.byUid, n)))) {
      const owner = await readLink(join(this.byUid, n));
      if (owner !== userId)
        throw new WorkspaceRefused(
          `per-user UIDs: ${userId}'s directory is owned by uid ${st.uid}, recorded for ${JSON.stringify(owner)}`,
        );
    }
    if (await link(n, join(this.byUser, userId))) return st.uid;
    return this.recorded(userId);
  }
}

function ignoreExists(e: unknown): void {
  if (code(e) !== "EEXIST") throw e;
}
