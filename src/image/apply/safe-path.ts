import { lstat, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { InputError } from '../../errors/index.ts';

/*
 * Where a layer entry lands. Two rules, from the two appliers kiln follows:
 *
 * 1. Entry names (and hard-link targets, which are entry names too) are cleaned lexically with
 *    leading slashes stripped first, so `/etc/passwd` and `./etc/passwd` both mean
 *    `<root>/etc/passwd`; a name whose `..` climbs above the root is refused. This is moby's
 *    rule (moby/go-archive diff.go UnpackLayer: `path.Clean(strings.TrimLeft(hdr.Name, "/"))`
 *    then `!filepath.IsLocal(name)` → breakoutError; archive.go resolveHardlinkTarget likewise).
 *    containerd instead clamps such names at the root (pkg/archive/tar.go applyNaive passes
 *    the parent to continuity's fs.RootPath, which joins `..` against `/`); no layer writer
 *    produces them, so kiln reports the archive as hostile rather than guessing. (The layer
 *    module's readLayerTar is stricter still and refuses any `..`; this rule guards entries
 *    from any source.)
 *
 * 2. Symlinks met in the parent directories of a name are followed, but resolved as if the
 *    root were `/`: an absolute target restarts at the root and `..` at the root stays there,
 *    exactly as the container will see the tree after pivot_root. So `a -> /etc` then
 *    `a/passwd` writes `<root>/etc/passwd`, and `up -> ../../..` then `up/x` writes
 *    `<root>/x`. This is containerd's rule (continuity fs/path.go RootPath, used by
 *    pkg/archive/tar.go applyNaive and hardlinkRootPath) and filepath-securejoin's.
 *    The last component is never followed: whatever is there is replaced, not written through.
 */

/**
 * The cleaned, root-relative form of a layer entry's name (or a hard link's target):
 * leading `/` stripped, `.` and empty elements dropped, `..` applied lexically, no trailing
 * slash. Returns `undefined` when the name denotes the root itself (`./`, `/`).
 * `entry` is the entry's own name, for the error, when `name` is a hard link's target.
 *
 * @throws InputError naming the entry and `name` when a `..` climbs above the root.
 */
export function cleanEntryPath(name: string, entry: string = name): string | undefined {
  const kept: string[] = [];
  for (const element of name.split('/')) {
    if (element === '' || element === '.') continue;
    if (element !== '..') {
      kept.push(element);
    } else if (kept.length > 0) {
      kept.pop();
    } else {
      throw new InputError(`layer entry ${JSON.stringify(entry)}: ${JSON.stringify(name)} climbs above the root`, {
        hint: 'the layer is malformed or hostile; kiln refuses names that leave the root (moby breakout rule)',
      });
    }
  }
  return kept.length === 0 ? undefined : kept.join('/');
}

/**
 * The most symlinks one resolution follows before giving up, as continuity's RootPath
 * (fs/path.go `linksWalked > 255`); Linux itself allows 40 (path_resolution(7)).
 */
const MAX_SYMLINKS = 255;

/**
 * Joins `path` (relative or absolute, `/`-separated) to `root`, following every symlink on the
 * way — including one in the last component — but resolving each as if `root` were `/`, so
 * the result is always `root` or below it: an absolute link target restarts at `root`, and
 * `..` at `root` stays at `root` (path_resolution(7) for `/..`). Components that do not exist
 * (or sit under a non-directory) are kept as written; the caller creates or rejects them.
 *
 * Semantics of continuity's `fs.RootPath` and cyphar's filepath-securejoin `SecureJoin`.
 * Like both, it resolves by path and so trusts that nothing else changes the tree meanwhile:
 * kiln applies a layer into a directory it owns.
 *
 * `knownDirs`, when given, holds absolute paths already proven to be real directories (not
 * symlinks) during this application; the caller clears it whenever it removes anything.
 *
 * @throws an `ELOOP` error (as from a system call) when more than 255 symlinks are followed.
 */
export async function resolveInRoot(root: string, path: string, knownDirs?: Set<string>): Promise<string> {
  const pending = path.split('/').reverse();
  const resolved: string[] = [];
  let current = root;
  let linksFollowed = 0;
  let missing = false;
  for (let element = pending.pop(); element !== undefined; element = pending.pop()) {
    if (element === '' || element === '.') continue;
    if (element === '..') {
      // `..` at the root is the root, as for `/..`; below it the parent is lexical because every
      // component kept in `resolved` is a real directory (or does not exist).
      resolved.pop();
      current = resolved.length === 0 ? root : join(root, ...resolved);
      // Climbing out of a missing directory lands on existing ones again, which may be links.
      missing = false;
      continue;
    }
    const next = join(current, element);
    if (missing || knownDirs?.has(next)) {
      resolved.push(element);
      current = next;
      continue;
    }
    const stats = await lstat(next).catch((error: NodeJS.ErrnoException) => {
      // A missing component, or one under a non-directory: nothing there can be a symlink.
      if (error.code === 'ENOENT' || error.code === 'ENOTDIR') return undefined;
      throw error;
    });
    if (stats === undefined) {
      missing = true;
    } else if (stats.isSymbolicLink()) {
      linksFollowed += 1;
      if (linksFollowed > MAX_SYMLINKS) {
        // The kernel's answer for a loop (ELOOP, path_resolution(7)), so callers treat it as
        // they would the same error from a system call.
        throw Object.assign(new Error(`${path}: too many levels of symbolic links`), { code: 'ELOOP' });
      }
      const target = await readlink(next);
      // An absolute target restarts at the root, never at the host's `/`.
      if (target.startsWith('/')) {
        resolved.length = 0;
        current = root;
      }
      pending.push(...target.split('/').reverse());
      continue;
    } else if (stats.isDirectory()) {
      knownDirs?.add(next);
    }
    resolved.push(element);
    current = next;
  }
  return current;
}
