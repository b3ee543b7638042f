import {
  type BigIntStats,
  chmodSync,
  constants,
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
import { TaskPool } from './task-pool.ts';

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

/**
 * Regular files copied at once. Each copy is libuv's copyfile on its thread pool (open,
 * copy_file_range(2) or sendfile(2), close: four threads unless UV_THREADPOOL_SIZE says
 * otherwise); more in flight than threads keeps every thread busy while the walk and the
 * metadata calls run on this thread.
 */
const COPIES_IN_FLIGHT = 16;

const ROOT_OWNER: Owner = { uid: 0, gid: 0 };

/** A directory made or merged, whose metadata is set once everything below it is written. */
interface OpenDir {
  readonly target: string;
  readonly source: string;
  readonly stats: BigIntStats;
  /** `all`: owner, mode, times and xattrs; `times`: only the times; `none`. */
  readonly metadata: 'all' | 'times' | 'none';
  /** Set when this copy made the directory: see {@link Made}. */
  readonly made: Made | undefined;
}

/**
 * What this copy knows of a directory it made: nothing was in it, so a name written below it
 * needs no check first; and `owner` is its owner as made, which is also the owner of every
 * entry made in it until its metadata is set: mkdir(2) gives it the process's fsuid, and
 * either the fsgid or, below a set-group-ID directory, that directory's group and the
 * set-group-ID bit, so that its own entries get its group (inode_init_owner, credentials(7)).
 */
interface Made {
  readonly owner: Owner;
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
 *
 * Regular files are copied {@link COPIES_IN_FLIGHT} at a time, each file's metadata set once
 * its content is written; directories get theirs when every file is written (writing an
 * entry moves its directory's mtime), innermost first. The result does not depend on the
 * order copies finish in. On failure or abort, the copies in flight are waited for before
 * the error is thrown, so nothing writes below `destRoot` after this returns.
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
  const left: OpenDir[] = [];
  const turn = eventLoopTurns();
  try {
    for (const event of walkMatch(target.tree, source, match, target.exclude)) {
      const pause = turn();
      if (pause) await pause;
      signal?.throwIfAborted();
      const to = event.rel === '' ? destination : join(destination, event.rel);
      const parent = open.at(-1)?.made;
      switch (event.kind) {
        case 'dir': {
          // The top directory keeps the metadata of an existing destination (overwriteTargetMetadata false).
          const top = event.rel === '';
          const made = copier.directory(to, event.stats, !top, parent);
          const metadata = made !== undefined || (!top && !event.implied) ? 'all' : top ? 'times' : 'none';
          open.push({ target: to, source: event.path, stats: event.stats, metadata, made });
          break;
        }
        case 'leave': {
          const dir = open.pop();
          if (dir === undefined) throw new InternalError('walk left a directory it never entered');
          left.push(dir);
          break;
        }
        case 'node':
          await copier.node(event.path, to, event.stats, parent);
          break;
        default:
          throw new InternalError(`unexpected walk event ${JSON.stringify(event satisfies never)}`);
      }
    }
    await copier.drain();
  } catch (error) {
    await copier.settle();
    throw error;
  }
  for (const dir of left) {
    signal?.throwIfAborted();
    if (dir.metadata === 'all') copier.metadata(dir.source, dir.target, dir.stats, dir.made?.owner, false);
    else if (dir.metadata === 'times') setTimes(dir.target, dir.stats);
  }
}

/** The first copy of an inode with several links: later links are made to it once it is written. */
interface FirstLink {
  readonly to: string;
  readonly done: Promise<void>;
}

/** The writes of one match: its hard links are linked only to each other. */
class MatchCopier {
  readonly #target: CopyTarget;
  readonly #links = new Map<string, FirstLink>();
  readonly #pool = new TaskPool(COPIES_IN_FLIGHT);

  constructor(target: CopyTarget) {
    this.#target = target;
  }

  /**
   * Makes the directory `to` when missing (returning what is known of it), or merges into
   * the one there, taking the source's mode when `overwrite` (fsutil copyDirectoryOnly).
   * `parent`: `to`'s parent, when this copy made it.
   */
  directory(to: string, stats: BigIntStats, overwrite: boolean, parent: Made | undefined): Made | undefined {
    if (parent !== undefined) {
      try {
        mkdirSync(to, { mode: 0o700 });
        return parent;
      } catch (error) {
        // Something was there after all (a case-folding directory, a concurrent writer): as below.
        if (errorCode(error) !== 'EEXIST') throw error;
      }
    }
    const existing = lstatSync(to, { throwIfNoEntry: false });
    if (existing === undefined) {
      mkdirSync(to, { mode: 0o700 });
      const made = lstatSync(to);
      return { owner: { uid: made.uid, gid: made.gid } };
    }
    if (!existing.isDirectory()) {
      throw new ConflictError(`cannot copy to non-directory: ${inRoot(this.#target.destRoot, to)}`, {
        hint: 'a directory of the source lands where the destination has a file or symlink',
      });
    }
    if (overwrite) chmodSync(to, this.#mode(stats));
    return undefined;
  }

  /**
   * Copies a file, symlink, FIFO, device or socket to `to`, replacing what is there (nothing
   * is expected there when this copy made `parent`). A regular file is queued: its copy may
   * still be in flight when this resolves; {@link drain} waits for it.
   */
  async node(from: string, to: string, stats: BigIntStats, parent: Made | undefined): Promise<void> {
    if (parent === undefined) this.#clear(to);
    if (stats.isFile()) {
      if (stats.nlink > 1n) {
        const key = `${stats.dev}:${stats.ino}`;
        const first = this.#links.get(key);
        if (first !== undefined) {
          await this.#pool.start(async () => {
            await first.done;
            this.#place(to, parent, () => linkSync(first.to, to));
            this.metadata(from, to, stats, undefined, false);
          });
          return;
        }
        const { done } = await this.#pool.start(() => this.#copyFile(from, to, stats, parent));
        this.#links.set(key, { to, done });
        return;
      }
      await this.#pool.start(() => this.#copyFile(from, to, stats, parent));
      return;
    }
    if (stats.isSymbolicLink()) {
      const link = readlinkSync(from);
      this.#place(to, parent, () => symlinkSync(link, to));
    } else if (stats.isFIFO()) {
      this.#place(to, parent, () => mknod(to, S_IFIFO | 0o600));
    } else if (stats.isCharacterDevice() || stats.isBlockDevice()) {
      const type = stats.isCharacterDevice() ? S_IFCHR : S_IFBLK;
      this.#place(to, parent, () => mknod(to, type | 0o600, deviceMajor(stats.rdev), deviceMinor(stats.rdev)));
    } else {
      this.#place(to, parent, () => writeFileSync(to, '', { flag: 'wx', mode: 0o600 }));
    }
    this.metadata(from, to, stats, parent?.owner, false);
  }

  /** Waits for the copies in flight. @throws the first copy's failure */
  drain(): Promise<void> {
    return this.#pool.drain();
  }

  /** Waits for the copies in flight, whatever becomes of them (the caller is failing already). */
  settle(): Promise<void> {
    return this.#pool.settle();
  }

  /**
   * fsutil copyFileInfo then copyXAttrs: owner, then mode (chown(2) clears setuid bits), then
   * times, then extended attributes (after chown, which clears security.capability).
   *
   * Calls that would change nothing are left out: chown when `made` (the owner `to` was made
   * with) is the one wanted; chmod when `modeKept` (`to` already has the source's mode, as
   * libuv's copyfile fchmod(2)s it) and neither `--chmod` nor a chown that cleared a
   * set-user-ID or set-group-ID bit changes it.
   */
  metadata(from: string, to: string, stats: BigIntStats, made: Owner | undefined, modeKept: boolean): void {
    const { owner, tree } = this.#target;
    const { uid, gid } = owner ?? (tree.kind === 'context' ? ROOT_OWNER : { uid: Number(stats.uid), gid: Number(stats.gid) });
    const chown = made === undefined || made.uid !== uid || made.gid !== gid;
    if (chown) lchownSync(to, uid, gid);
    if (!stats.isSymbolicLink() && !(modeKept && this.#target.mode === undefined && !(chown && (stats.mode & 0o6000n) !== 0n))) {
      chmodSync(to, this.#mode(stats));
    }
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

  /** A regular file's content (on the thread pool), then its metadata. */
  async #copyFile(from: string, to: string, stats: BigIntStats, parent: Made | undefined): Promise<void> {
    // COPYFILE_EXCL: never write through anything that appeared at `to`.
    try {
      await copyFile(from, to, constants.COPYFILE_EXCL);
    } catch (error) {
      if (parent === undefined || errorCode(error) !== 'EEXIST') throw error;
      this.#clear(to);
      await copyFile(from, to, constants.COPYFILE_EXCL);
    }
    this.metadata(from, to, stats, parent?.owner, true);
  }

  /**
   * Runs `create`, which makes `to` and fails with EEXIST when something is there. Below a
   * `parent` this copy made nothing was checked first: what `create` finds in the way (a
   * case-folding directory, a concurrent writer) is cleared, then it runs again.
   */
  #place(to: string, parent: Made | undefined, create: () => void): void {
    if (parent === undefined) {
      create();
      return;
    }
    try {
      create();
    } catch (error) {
      if (errorCode(error) !== 'EEXIST') throw error;
      this.#clear(to);
      create();
    }
  }

  /** Removes a non-directory at `to`. @throws ConflictError when a directory is there */
  #clear(to: string): void {
    const existing = lstatSync(to, { throwIfNoEntry: false });
    if (existing === undefined) return;
    if (existing.isDirectory()) {
      throw new ConflictError(`cannot replace to directory ${inRoot(this.#target.destRoot, to)} with file`, {
        hint: 'a file of the source lands where the destination has a directory',
      });
    }
    unlinkSync(to);
  }

  #mode(stats: BigIntStats): number {
    const mode = this.#target.mode;
    return mode === undefined ? Number(stats.mode & 0o7777n) : applyModeChange(mode, Number(stats.mode), stats.isDirectory());
  }
}

function errorCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}

/** Sets atime and mtime of `to` (not followed) from `stats`, to the microsecond. */
function setTimes(to: string, stats: BigIntStats): void {
  lutimesSync(to, toSeconds(stats.atimeNs), toSeconds(stats.mtimeNs));
}

/** Seconds with microseconds: what a double near 2^31 seconds holds exactly enough. */
function toSeconds(ns: bigint): number {
  return Number(ns / 1000n) / 1e6;
}
