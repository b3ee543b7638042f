import {
  type BigIntStats,
  chmodSync,
  constants,
  copyFileSync,
  lchownSync,
  linkSync,
  lstatSync,
  lutimesSync,
  mkdirSync,
  readlinkSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { copyFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { PatternMatcher } from '../../context/index.ts';
import { type SelectedSource, type SourceMatch, type SourceTree, walkMatch } from '../../cache/index.ts';
import { ConflictError, InternalError } from '../../errors/index.ts';
import { resolveInRoot } from '../../image/apply/index.ts';
import { deviceMajor, deviceMinor, eventLoopTurns, isOverlayXattr } from '../../image/layer/index.ts';
import { lsetxattr, mknod, readXattrs, S_IFBLK, S_IFCHR, S_IFIFO } from '../../native/index.ts';
import { applyModeChange, createdDirectoryMode, type ModeChange } from './file-mode-change.ts';
import { inRoot, makeDirectories, type Owner } from './make-directories.ts';

/** What every match of one copy shares. */
export interface CopyTarget {
  readonly tree: SourceTree;
  /** The real path of the destination root (the container's `/`). */
  readonly destRoot: string;
  /** The destination as BuildKit cleans it: absolute, a trailing `/` or `/.` kept. */
  readonly dest: string;
  readonly owner: Owner | undefined;
  readonly mode: ModeChange | undefined;
  readonly exclude: PatternMatcher | undefined;
  readonly signal: AbortSignal | undefined;
}

/** Files above this size are copied off the JavaScript thread (copy_file_range in libuv). */
const LARGE_FILE = 1n << 20n;

const ROOT_OWNER: Owner = { uid: 0, gid: 0 };

/** A directory made or merged, whose metadata is set once everything below it is written. */
interface OpenDir {
  readonly target: string;
  readonly source: string;
  readonly stats: BigIntStats;
  /** `all`: owner, mode, times and xattrs; `times`: only the times; `none`. */
  readonly metadata: 'all' | 'times' | 'none';
}

/**
 * Copies one selected source path (a match) into the destination with fsutil's copy
 * semantics (copy.Copy with CopyDirContents, as BuildKit's COPY runs it):
 *
 * - missing directories above the destination are made (0755, or an octal `--chmod`'s
 *   bits; owned by `--chown`, else root);
 * - a directory copies its contents into the destination; anything else is copied to the
 *   destination path, or into it when it is an existing directory (under the match's name);
 * - the destination is resolved inside the root (symlinks followed as the container would);
 *   entries below it are written in place: a directory merges into a directory (taking
 *   the source's metadata), anything else replaces what is there, a directory in the way of
 *   a file, or a non-directory in the way of a directory, is a ConflictError;
 * - owner: `--chown`, else 0:0 for context files, else the source's; mode: the source's,
 *   changed by `--chmod` (not on symlinks); atime and mtime kept (to the microsecond);
 *   extended attributes copied where the file system takes them (BuildKit ignores those
 *   it refuses); hard links within the match stay hard links; FIFOs and devices made with
 *   mknod(2); a socket becomes an empty file, as fsutil's copyDevice makes it.
 */
export async function copyMatch(target: CopyTarget, source: SelectedSource, match: SourceMatch): Promise<void> {
  const { destRoot, dest, owner, mode, signal } = target;
  const dirMode = createdDirectoryMode(mode);
  // fsutil Copy: the destination's parent, or the destination itself when it names a directory.
  const base = dest.endsWith('/') ? '' : basename(dest);
  const ensure = base === '' || base === '.' ? dest : dirname(dest);
  makeDirectories(destRoot, await resolveInRoot(destRoot, ensure), dirMode, owner);
  let destination = await resolveInRoot(destRoot, dest);
  // prepareTargetDir: a non-directory goes into an existing directory under its own name.
  const isDirectory = match.stats.isDirectory();
  const existing = lstatSync(destination, { throwIfNoEntry: false });
  if (!isDirectory && existing?.isDirectory() === true) destination = join(destination, basename(match.path));
  makeDirectories(destRoot, isDirectory && existing === undefined ? destination : dirname(destination), dirMode, owner);

  const copier = new MatchCopier(target);
  const open: OpenDir[] = [];
  const turn = eventLoopTurns();
  for (const event of walkMatch(target.tree, source, match, target.exclude)) {
    await turn();
    signal?.throwIfAborted();
    const to = event.rel === '' ? destination : join(destination, event.rel);
    switch (event.kind) {
      case 'dir': {
        // The top directory keeps the metadata of an existing destination (overwriteTargetMetadata false).
        const top = event.rel === '';
        const made = copier.directory(to, event.stats, !top);
        const metadata = made || (!top && !event.implied) ? 'all' : top ? 'times' : 'none';
        open.push({ target: to, source: event.path, stats: event.stats, metadata });
        break;
      }
      case 'leave': {
        const dir = open.pop();
        if (dir === undefined) throw new InternalError('walk left a directory it never entered');
        if (dir.metadata === 'all') copier.metadata(dir.source, dir.target, dir.stats);
        else if (dir.metadata === 'times') setTimes(dir.target, dir.stats);
        break;
      }
      case 'node':
        await copier.node(event.path, to, event.stats);
        break;
      default:
        throw new InternalError(`unexpected walk event ${JSON.stringify(event satisfies never)}`);
    }
  }
}

/** The writes of one match: its hard links are linked only to each other. */
class MatchCopier {
  readonly #target: CopyTarget;
  readonly #links = new Map<string, string>();

  constructor(target: CopyTarget) {
    this.#target = target;
  }

  /**
   * Makes the directory `to` when missing (true), or merges into the one there, taking the
   * source's mode when `overwrite` (fsutil copyDirectoryOnly).
   */
  directory(to: string, stats: BigIntStats, overwrite: boolean): boolean {
    const existing = lstatSync(to, { throwIfNoEntry: false });
    if (existing === undefined) {
      mkdirSync(to, { mode: 0o700 });
      return true;
    }
    if (!existing.isDirectory()) {
      throw new ConflictError(`cannot copy to non-directory: ${inRoot(this.#target.destRoot, to)}`, {
        hint: 'a directory of the source lands where the destination has a file or symlink',
      });
    }
    if (overwrite) chmodSync(to, this.#mode(stats));
    return false;
  }

  /** Copies a file, symlink, FIFO, device or socket to `to`, replacing what is there. */
  async node(from: string, to: string, stats: BigIntStats): Promise<void> {
    const existing = lstatSync(to, { throwIfNoEntry: false });
    if (existing !== undefined) {
      if (existing.isDirectory()) {
        throw new ConflictError(`cannot replace to directory ${inRoot(this.#target.destRoot, to)} with file`, {
          hint: 'a file of the source lands where the destination has a directory',
        });
      }
      unlinkSync(to);
    }
    if (stats.isFile()) {
      if (stats.nlink > 1n) {
        const key = `${stats.dev}:${stats.ino}`;
        const first = this.#links.get(key);
        if (first !== undefined) {
          linkSync(first, to);
          this.metadata(from, to, stats);
          return;
        }
        this.#links.set(key, to);
      }
      // COPYFILE_EXCL: never write through anything that appeared at `to`.
      if (stats.size > LARGE_FILE) await copyFile(from, to, constants.COPYFILE_EXCL);
      else copyFileSync(from, to, constants.COPYFILE_EXCL);
    } else if (stats.isSymbolicLink()) {
      symlinkSync(readlinkSync(from), to);
    } else if (stats.isFIFO()) {
      mknod(to, S_IFIFO | 0o600);
    } else if (stats.isCharacterDevice() || stats.isBlockDevice()) {
      mknod(to, (stats.isCharacterDevice() ? S_IFCHR : S_IFBLK) | 0o600, deviceMajor(stats.rdev), deviceMinor(stats.rdev));
    } else {
      writeFileSync(to, '', { flag: 'wx', mode: 0o600 });
    }
    this.metadata(from, to, stats);
  }

  /**
   * fsutil copyFileInfo then copyXAttrs: owner, then mode (chown(2) clears setuid bits), then
   * times, then extended attributes (after chown, which clears security.capability).
   */
  metadata(from: string, to: string, stats: BigIntStats): void {
    const { owner, tree } = this.#target;
    const { uid, gid } = owner ?? (tree.kind === 'context' ? ROOT_OWNER : { uid: Number(stats.uid), gid: Number(stats.gid) });
    lchownSync(to, uid, gid);
    if (!stats.isSymbolicLink()) chmodSync(to, this.#mode(stats));
    setTimes(to, stats);
    let xattrs: Record<string, Buffer>;
    try {
      xattrs = readXattrs(from);
    } catch {
      // BuildKit's docopy logs and ignores every extended-attribute error.
      return;
    }
    for (const [name, value] of Object.entries(xattrs)) {
      if (isOverlayXattr(name)) continue;
      try {
        lsetxattr(to, name, value);
      } catch {
        // As above: a file system or privilege that refuses one leaves it out.
      }
    }
  }

  #mode(stats: BigIntStats): number {
    const mode = this.#target.mode;
    return mode === undefined ? Number(stats.mode & 0o7777n) : applyModeChange(mode, Number(stats.mode), stats.isDirectory());
  }
}

/** Sets atime and mtime of `to` (not followed) from `stats`, to the microsecond. */
function setTimes(to: string, stats: BigIntStats): void {
  lutimesSync(to, toSeconds(stats.atimeNs), toSeconds(stats.mtimeNs));
}

/** Seconds with microseconds: what a double near 2^31 seconds holds exactly enough. */
function toSeconds(ns: bigint): number {
  return Number(ns / 1000n) / 1e6;
}
