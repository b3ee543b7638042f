import {
  chmodSync,
  constants,
  copyFileSync,
  lchownSync,
  linkSync,
  lstatSync,
  lutimesSync,
  mkdirSync,
  readdirSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  type BigIntStats,
} from 'node:fs';
import { copyFile } from 'node:fs/promises';
import { join } from 'node:path';
import { InputError } from '../errors/index.ts';
import { eventLoopTurns, deviceMajor, deviceMinor } from '../image/layer/index.ts';
import { lsetxattr, mknod, S_IFBLK, S_IFCHR, S_IFIFO } from '../native/index.ts';
import { contentXattrs } from './file-entry.ts';
import { isOpaque, isWhiteout } from './lower-view.ts';

/*
 * Copies of trees, `cp -a` in TypeScript: what the copy snapshotter prepares with, and what
 * flattens a deep stack of overlay layers. Synchronous calls (one file at a time, a turn of
 * the event loop every few milliseconds), as the layer walkers, but for files over 1 MiB.
 */

const LARGE_FILE = 1 << 20;

/** Options of {@link copyTree} and {@link mergeLayer}. */
export interface CopyOptions {
  readonly signal?: AbortSignal;
}

/**
 * Copies the tree at `src` to `dest`, which must not exist, as `cp -a` does: owners, modes
 * (setuid, setgid, sticky), mtimes (to the microsecond: Node sets times as floating seconds),
 * symlinks as they are, hard links within the tree as hard links, FIFOs and devices (mknod(2)),
 * extended attributes but overlayfs's own. Sockets are left out. A failed copy leaves `dest`
 * partly written; the caller discards it.
 */
export async function copyTree(src: string, dest: string, options: CopyOptions = {}): Promise<void> {
  mkdirSync(dest, { mode: 0o700 });
  await walk(src, dest, false, options.signal);
}

/**
 * Applies the overlay layer directory `layer` (an upper directory, as overlayfs left it) onto
 * the plain tree `dest`, as overlayfs would show `layer` over it: its entries replace what is
 * at their path (a directory merges into a directory, unless it is opaque), a whiteout removes
 * what is at its path. Applying the layers of a stack bottom first gives the merged tree.
 */
export async function mergeLayer(layer: string, dest: string, options: CopyOptions = {}): Promise<void> {
  await walk(layer, dest, true, options.signal);
}

/**
 * Copies one entry that is not a directory (a file, symlink, FIFO or device) with its
 * metadata, as overlayfs copies a file up. `dest` must not exist.
 */
export async function copyEntry(src: string, dest: string, stats: BigIntStats): Promise<void> {
  await copyNode(src, dest, stats, undefined);
}

/**
 * Sets the owner, mode, extended attributes and, when `times`, the mtime of `dest` to those
 * of `src` (whose lstat is `stats`). chown comes before chmod, which it would undo for
 * setuid bits, and before the attributes, which it would clear for security.capability.
 */
export function copyMetadata(src: string, dest: string, stats: BigIntStats, times: boolean): void {
  lchownSync(dest, Number(stats.uid), Number(stats.gid));
  if (!stats.isSymbolicLink()) chmodSync(dest, Number(stats.mode & 0o7777n));
  for (const [name, value] of Object.entries(contentXattrs(src))) {
    try {
      lsetxattr(dest, name, value);
    } catch (error) {
      // A file system without attributes (of that namespace) has none to keep, as cp -a.
      if ((error as NodeJS.ErrnoException).code !== 'ENOTSUP') throw error;
    }
  }
  if (times) setTimes(dest, stats);
}

/** Sets the atime and mtime of `dest` (not followed) from `stats`. */
export function setTimes(dest: string, stats: BigIntStats): void {
  lutimesSync(dest, toSeconds(stats.atimeNs), toSeconds(stats.mtimeNs));
}

/** Seconds with microseconds, the most a double near 2^31 holds exactly enough. */
function toSeconds(ns: bigint): number {
  return Number(ns / 1000n) / 1e6;
}

async function walk(srcRoot: string, destRoot: string, merge: boolean, signal: AbortSignal | undefined): Promise<void> {
  const hardlinks = new Map<string, string>();
  // Directories get their metadata last, children first, so writing into them changes nothing.
  const dirs: Array<{ readonly src: string; readonly dest: string; readonly stats: BigIntStats }> = [
    { src: srcRoot, dest: destRoot, stats: lstatSync(srcRoot, { bigint: true }) },
  ];
  const stack: Array<{ readonly rel: string; readonly names: string[]; index: number }> = [
    { rel: '', names: readdirSync(srcRoot), index: 0 },
  ];
  const turn = eventLoopTurns();
  while (stack.length > 0) {
    const pause = turn();
    if (pause) await pause;
    signal?.throwIfAborted();
    const level = stack[stack.length - 1]!;
    const name = level.names[level.index++];
    if (name === undefined) {
      stack.pop();
      continue;
    }
    const rel = level.rel === '' ? name : `${level.rel}/${name}`;
    const src = join(srcRoot, rel);
    const dest = join(destRoot, rel);
    const stats = lstatSync(src, { bigint: true });
    if (merge) {
      const existing = lstatSync(dest, { bigint: true, throwIfNoEntry: false });
      if (isWhiteout(stats)) {
        if (existing !== undefined) rmSync(dest, { recursive: true, force: true });
        continue;
      }
      const mergeInto = stats.isDirectory() && existing?.isDirectory() === true && !isOpaque(src);
      if (existing !== undefined && !mergeInto) rmSync(dest, { recursive: true, force: true });
      if (stats.isDirectory()) {
        if (!mergeInto) mkdirSync(dest, { mode: 0o700 });
        dirs.push({ src, dest, stats });
        stack.push({ rel, names: readdirSync(src), index: 0 });
        continue;
      }
    } else if (stats.isDirectory()) {
      mkdirSync(dest, { mode: 0o700 });
      dirs.push({ src, dest, stats });
      stack.push({ rel, names: readdirSync(src), index: 0 });
      continue;
    }
    await copyNode(src, dest, stats, hardlinks);
  }
  for (let i = dirs.length - 1; i >= 0; i--) {
    const dir = dirs[i]!;
    copyMetadata(dir.src, dir.dest, dir.stats, true);
  }
}

async function copyNode(src: string, dest: string, stats: BigIntStats, hardlinks: Map<string, string> | undefined): Promise<void> {
  if (stats.isSocket()) return;
  if (hardlinks !== undefined && stats.nlink > 1n) {
    const key = `${stats.dev}:${stats.ino}`;
    const first = hardlinks.get(key);
    if (first !== undefined) {
      linkSync(first, dest);
      return;
    }
    hardlinks.set(key, dest);
  }
  if (stats.isFile()) {
    if (stats.size > LARGE_FILE) await copyFile(src, dest, constants.COPYFILE_EXCL);
    else copyFileSync(src, dest, constants.COPYFILE_EXCL);
  } else if (stats.isSymbolicLink()) {
    symlinkSync(readlinkSync(src), dest);
  } else if (stats.isFIFO()) {
    mknod(dest, S_IFIFO | 0o600);
  } else if (stats.isCharacterDevice() || stats.isBlockDevice()) {
    mknod(dest, (stats.isCharacterDevice() ? S_IFCHR : S_IFBLK) | 0o600, deviceMajor(stats.rdev), deviceMinor(stats.rdev));
  } else {
    throw new InputError(`${src}: unsupported file type (mode ${stats.mode.toString(8)})`);
  }
  copyMetadata(src, dest, stats, true);
}
