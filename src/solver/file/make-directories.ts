import { chmodSync, lchownSync, lstatSync, mkdirSync } from 'node:fs';
import { dirname, relative } from 'node:path';
import { ConflictError } from '../../errors/index.ts';

/** A numeric owner, resolved (`--chown`, USER). */
export interface Owner {
  readonly uid: number;
  readonly gid: number;
}

/**
 * fsutil's MkdirAll: makes every missing directory of `path`, a host path inside `root`
 * whose existing elements are real directories (as resolveInRoot leaves it), each with
 * `mode` (chmod'ed: the umask does not apply) and, when given, `owner`; without one a new
 * directory is the process's (root). Existing directories are left as they are.
 *
 * @returns the directories made, outermost first
 * @throws ConflictError naming the path (inside the root) when an element is not a directory
 */
export function makeDirectories(root: string, path: string, mode: number, owner: Owner | undefined): string[] {
  const missing: string[] = [];
  let current = path;
  for (;;) {
    const stats = lstatOrMissing(current);
    if (stats !== undefined) {
      if (!stats.isDirectory()) {
        throw new ConflictError(`cannot make directory ${inRoot(root, path)}: ${inRoot(root, current)} is not a directory`, {
          hint: 'a file (or symlink) is in the way in the destination',
        });
      }
      break;
    }
    // The root exists, so the walk up ends there at the latest.
    if (current === root || current === dirname(current)) break;
    missing.push(current);
    current = dirname(current);
  }
  const made: string[] = [];
  for (const dir of missing.reverse()) {
    try {
      mkdirSync(dir, { mode });
    } catch (error) {
      // Made meanwhile by someone else: fine when it is a directory (Go's MkdirAll too).
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || lstatSync(dir).isDirectory() !== true) throw error;
      continue;
    }
    chmodSync(dir, mode);
    if (owner !== undefined) lchownSync(dir, owner.uid, owner.gid);
    made.push(dir);
  }
  return made;
}

/** A host path below `root` as the container sees it (`/app/x`). */
export function inRoot(root: string, path: string): string {
  return `/${relative(root, path)}`;
}

/** lstat(2), or undefined when nothing is there (ENOENT) or a parent is not a directory (ENOTDIR). */
function lstatOrMissing(path: string): ReturnType<typeof lstatSync> | undefined {
  try {
    return lstatSync(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw error;
  }
}
