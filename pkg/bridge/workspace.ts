/**
 * Prepares `<root>/<userId>` for a session. The id is checked as a single path segment first.
 *
 * Per-user isolation (the bridge is root, each user has a UID): the root is owned by the bridge
 * and mode 0711 (see `secureRoot`), so no agent can create, rename, delete or link any entry in it;
 * only bridges change what `<root>/<userId>` names. The directory is created 0700 by the bridge,
 * then handed to the user's UID with lchown (never following a link). An existing entry must be a
 * real directory (not a symlink) owned by that UID, or left root-owned by a bridge that stopped
 * between mkdir and chown. The checks are by path, and that is sound because the one component
 * that could change between check and use is an entry of a directory only bridges write; the use
 * itself (the agent's chdir) happens as the user's UID, after the switch, so the kernel checks it
 * with the user's own rights. The bridge never looks inside a user's directory.
 *
 * Shared mode (the bridge cannot switch UIDs): the same checks, plus realpath, mode 0700 through
 * an O_NOFOLLOW handle; agents of different users can then reach each other (see docs/security.md).
 */
import { constants } from "node:fs";
import { lchown, lstat, mkdir, open, realpath, chmod } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { checkUserId } from "../claims/index.js";

export class WorkspaceRefused extends Error {
  override name = "WorkspaceRefused";
}

export interface Owner {
  uid: number;
  gid: number;
}

/**
 * For per-user isolation: the root must be a real directory owned by the bridge's uid, mode 0711
 * (users may pass through to their own directory, not list or create), and every ancestor must be
 * searchable by others, owned by root or the bridge, and not writable by others unless sticky (else
 * an agent could swap the root itself). Fixes the root's mode when the bridge owns it; refuses anything else.
 */
export async function secureRoot(root: string): Promise<string> {
  let real: string;
  try {
    real = await realpath(root);
  } catch (e) {
    throw new Error(`workspace root ${root} is not usable`, { cause: e });
  }
  const me = process.getuid?.() ?? -1;
  const st = await lstat(real);
  if (!st.isDirectory()) throw new Error(`workspace root ${real}: not a directory`);
  if (st.uid !== me)
    throw new Error(
      `workspace root ${real}: owned by uid ${st.uid}; per-user isolation needs it owned by the bridge (uid ${me}) so no user can create or replace entries in it`,
    );
  if ((st.mode & 0o7777) !== 0o711) await chmod(real, 0o711);
  for (let dir = dirname(real); ; dir = dirname(dir)) {
    const a = await lstat(dir);
    if ((a.mode & 0o001) === 0)
      throw new Error(
        `workspace root ${real}: ancestor ${dir} (mode ${(a.mode & 0o7777).toString(8)}) is not searchable by others; agents could not reach their directory`,
      );
    if ((a.uid !== 0 && a.uid !== me) || ((a.mode & 0o022) !== 0 && (a.mode & 0o1000) === 0))
      throw new Error(
        `workspace root ${real}: ancestor ${dir} is owned by uid ${a.uid} or writable by others without the sticky bit; the root could be swapped`,
      );
    if (dir === dirname(dir)) break;
  }
  return real;
}

function placeIn(root: string, userId: string): string {
  const dir = join(root, userId);
  if (dirname(dir) !== root || basename(dir) !== userId) {
    throw new WorkspaceRefused(
      `userId: ${JSON.stringify(userId)} does not name a directory directly under the root`,
    );
  }
  return dir;
}

async function makeDir(dir: string): Promise<void> {
  try {
    await mkdir(dir, { mode: 0o700 });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EEXIST")
      throw new Error(`creating workspace ${dir}`, { cause: e });
  }
}

/**
 * Per-user: `root` must come from `secureRoot`. Returns the directory, owned by `owner`.
 */
export async function preparePrivateWorkspace(
  root: string,
  userId: string,
  owner: Owner,
  pattern?: RegExp,
): Promise<string> {
  const check = checkUserId(userId, pattern);
  if (!check.ok) throw new WorkspaceRefused(`userId: ${check.rule}`);
  const dir = placeIn(root, userId);
  await makeDir(dir);
  const me = process.getuid?.() ?? -1;
  const st = await lstat(dir);
  if (st.isSymbolicLink()) throw new WorkspaceRefused(`workspace ${dir} is a symbolic link; refused`);
  if (!st.isDirectory())
    throw new WorkspaceRefused(`workspace ${dir} exists and is not a directory; refused`);
  if (st.uid === me) {
    // Ours: just created, or a bridge stopped before handing it over. Close it, then hand it over.
    await chmod(dir, 0o700);
    await lchown(dir, owner.uid, owner.gid);
  } else if (st.uid !== owner.uid) {
    throw new WorkspaceRefused(
      `workspace ${dir} is owned by uid ${st.uid}, not ${userId}'s uid ${owner.uid}; refused`,
    );
  }
  return dir;
}

/** Shared mode: the agent runs as the bridge's own uid (development, non-root). */
export async function prepareWorkspace(root: string, userId: string, pattern?: RegExp): Promise<string> {
  const check = checkUserId(userId, pattern);
  if (!check.ok) throw new WorkspaceRefused(`userId: ${check.rule}`);
  let rootReal: string;
  try {
    rootReal = await realpath(root);
  } catch (e) {
    throw new Error(`workspace root ${root} is not usable`, { cause: e });
  }
  const dir = placeIn(rootReal, userId);
  await makeDir(dir);
  const st = await lstat(dir);
  if (st.isSymbolicLink()) throw new WorkspaceRefused(`workspace ${dir} is a symbolic link; refused`);
  if (!st.isDirectory())
    throw new WorkspaceRefused(`workspace ${dir} exists and is not a directory; refused`);
  if ((await realpath(dir)) !== dir)
    throw new WorkspaceRefused(`workspace ${dir} resolves outside the root; refused`);
  const fh = await open(dir, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW);
  try {
    await fh.chmod(0o700);
  } finally {
    await fh.close();
  }
  return dir;
}
