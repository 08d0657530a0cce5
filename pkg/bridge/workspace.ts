/**
 * Prepares `<root>/<userId>` for a session on the real filesystem: the id is checked as a single
 * path segment, the root is resolved with realpath, and an existing entry that is a symlink, not
 * a directory, or resolves anywhere but directly under the root is refused. Mode 0700; when an
 * owner is given (per-user UID isolation) the directory is chowned to it.
 */
import { constants } from "node:fs";
import { lstat, mkdir, open, realpath } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { checkUserId } from "../claims/index.js";

export class WorkspaceRefused extends Error {
  override name = "WorkspaceRefused";
}

export interface Owner {
  uid: number;
  gid: number;
}

export async function prepareWorkspace(
  root: string,
  userId: string,
  pattern?: RegExp,
  owner?: Owner,
): Promise<string> {
  const check = checkUserId(userId, pattern);
  if (!check.ok) throw new WorkspaceRefused(`userId: ${check.rule}`);
  let rootReal: string;
  try {
    rootReal = await realpath(root);
  } catch (e) {
    throw new Error(`workspace root ${root} is not usable`, { cause: e });
  }
  const dir = join(rootReal, userId);
  if (dirname(dir) !== rootReal || basename(dir) !== userId) {
    throw new WorkspaceRefused(
      `userId: ${JSON.stringify(userId)} does not name a directory directly under the root`,
    );
  }
  try {
    await mkdir(dir, { mode: 0o700 });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EEXIST")
      throw new Error(`creating workspace ${dir}`, { cause: e });
  }
  const st = await lstat(dir);
  if (st.isSymbolicLink()) throw new WorkspaceRefused(`workspace ${dir} is a symbolic link; refused`);
  if (!st.isDirectory())
    throw new WorkspaceRefused(`workspace ${dir} exists and is not a directory; refused`);
  if ((await realpath(dir)) !== dir)
    throw new WorkspaceRefused(`workspace ${dir} resolves outside the root; refused`);
  // Adjust mode and owner through a handle opened without following links, so a swap after the
  // checks above cannot redirect the chmod/chown.
  const fh = await open(dir, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW);
  try {
    if (owner) await fh.chown(owner.uid, owner.gid);
    await fh.chmod(0o700);
  } finally {
    await fh.close();
  }
  return dir;
}
