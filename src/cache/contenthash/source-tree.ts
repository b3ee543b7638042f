import { type BigIntStats, type Dirent, lstatSync, readdirSync, readlinkSync } from 'node:fs';
import { type DirectoryListing, DirectoryReadAhead } from '../../native/index.ts';
import { realpath } from 'node:fs/promises';
import { type MatchInfo, NO_PARENT_INFO } from '../../context/index.ts';
import { InputError } from '../../errors/index.ts';
import type { ContextFilter } from './context-filter.ts';
import type { CopySourceRoot } from './copy-selection.ts';

/** Why a path is not in a source tree. */
export type Absence = 'not-found' | 'excluded';

/** Where {@link SourceTree.resolve} led. */
export type Resolution =
  | {
      readonly kind: 'found';
      /** Root-relative path of what is there, every symlink on the way followed ('' for the root). */
      readonly path: string;
      readonly stats: BigIntStats;
    }
  | {
      readonly kind: 'absent';
      /** Root-relative path of the first element that is not there. */
      readonly path: string;
      readonly why: Absence;
    };

/**
 * The most symlinks one resolution follows, as continuity's fs.RootPath (which BuildKit's
 * copy uses); Linux allows 40 (path_resolution(7)).
 */
const MAX_SYMLINKS = 255;

/**
 * A COPY source directory as BuildKit would see it: scoped to its root (an absolute symlink
 * target restarts at the root, `..` at the root stays there, so nothing outside is ever
 * read) and, for the build context, without what the ignore rules exclude.
 *
 * Paths are root-relative and slash-separated, `''` for the root. File-system calls are
 * synchronous (the walkers hand the event loop a turn between entries). One instance serves
 * one copy or one checksum, which closes it; it caches which excluded directories hold
 * included content.
 */
export class SourceTree {
  /** The real path of the source directory. */
  readonly root: string;
  readonly kind: CopySourceRoot['kind'];
  /** Names the source in messages. */
  readonly name: string;
  readonly filter: ContextFilter | undefined;
  readonly #dirInfo = new Map<string, MatchInfo>();
  readonly #holdsIncluded = new Map<string, boolean>();
  #readAhead: DirectoryReadAhead | undefined;

  private constructor(root: string, source: CopySourceRoot) {
    this.root = root;
    this.kind = source.kind;
    this.name = source.name ?? (source.kind === 'context' ? 'the build context' : 'the source file system');
    this.filter = source.kind === 'context' ? source.ignore : undefined;
  }

  /** @throws InputError when `source.dir` does not exist or is not a directory */
  static async open(source: CopySourceRoot): Promise<SourceTree> {
    const root = await realpath(source.dir).catch((cause: NodeJS.ErrnoException) => {
      throw new InputError(`copy source ${source.dir}: ${cause.code ?? cause.message}`, { cause });
    });
    if (!lstatSync(root).isDirectory()) throw new InputError(`copy source ${source.dir} is not a directory`);
    return new SourceTree(root, source);
  }

  /** The host path of a root-relative path. */
  abs(path: string): string {
    // Paths here are clean and relative, so plain concatenation is a join.
    return path === '' ? this.root : `${this.root}/${path}`;
  }

  /** lstat(2) of a root-relative path; undefined when nothing is there (ENOENT, ENOTDIR). */
  lstat(path: string): BigIntStats | undefined {
    return lstatSync(this.abs(path), { bigint: true, throwIfNoEntry: false });
  }

  /**
   * The entries of directory `path` with their lstat(2), sorted as Go's os.ReadDir sorts them
   * (bytewise): one native call for the whole directory, made ahead on a thread of the
   * addon's when a walker asked for it with {@link prefetch} (src/native DirectoryReadAhead).
   * Whoever opened the tree closes it.
   */
  list(path: string): DirectoryListing {
    this.#readAhead ??= new DirectoryReadAhead();
    return this.#readAhead.list(this.abs(path));
  }

  /**
   * Directories (root-relative) a walker will list next, in that order, before anything it
   * asked for earlier: read ahead while it handles what it has.
   */
  prefetch(paths: readonly string[]): void {
    if (paths.length === 0) return;
    this.#readAhead ??= new DirectoryReadAhead();
    this.#readAhead.prefetch(paths.map((path) => this.abs(path)));
  }

  /** Stops reading ahead; the tree can still be read (and then reads ahead again). */
  close(): void {
    this.#readAhead?.close();
    this.#readAhead = undefined;
  }

  [Symbol.dispose](): void {
    this.close();
  }

  /** The names in directory `path`, sorted as Go's os.ReadDir sorts them (bytewise). */
  readdir(path: string): Dirent[] {
    return readdirSync(this.abs(path), { withFileTypes: true }).sort(compareNames);
  }

  /**
   * Whether the entry at `path` (which exists; a directory when `isDirectory`) is in the
   * tree, its parent being in it: always for a source without ignore rules.
   */
  present(path: string, isDirectory: boolean): boolean {
    const filter = this.filter;
    if (filter === undefined || path === '') return true;
    const verdict = filter.check(path, this.#infoOf(parentOf(path)));
    if (!verdict.excluded) return true;
    return isDirectory && filter.mayIncludeBelow(path) && this.holdsIncluded(path, verdict.info);
  }

  /**
   * For a directory the ignore rules exclude but that must be walked: whether something
   * below it is included, which puts the directory itself in the context (fsutil sends
   * such a directory only then). `info` is the directory's own {@link FilterVerdict.info}.
   */
  holdsIncluded(dir: string, info: MatchInfo): boolean {
    const known = this.#holdsIncluded.get(dir);
    if (known !== undefined) return known;
    const filter = this.filter;
    let found = false;
    if (filter !== undefined) {
      for (const entry of this.readdir(dir)) {
        const child = `${dir}/${entry.name}`;
        if (!entry.isDirectory()) {
          found = !filter.excludes(child, info);
        } else {
          const verdict = filter.check(child, info);
          found = !verdict.excluded || (filter.mayIncludeBelow(child) && this.holdsIncluded(child, verdict.info));
        }
        if (found) break;
      }
    }
    this.#holdsIncluded.set(dir, found);
    return found;
  }

  /**
   * Follows `path` (clean, root-relative) element by element inside the root: every symlink
   * met on the way is followed, the last element's too when `followLast`, each resolved as
   * if the root were `/` (continuity's fs.RootPath). An element missing, or left out by the
   * ignore rules, ends the walk.
   *
   * @throws InputError naming the path when more than 255 symlinks are followed
   */
  resolve(path: string, followLast: boolean): Resolution {
    const pending = path.split('/').reverse();
    const resolved: string[] = [];
    let links = 0;
    let stats = lstatSync(this.root, { bigint: true });
    for (let element = pending.pop(); element !== undefined; element = pending.pop()) {
      if (element === '' || element === '.') continue;
      if (element === '..') {
        // Every element kept is a real directory, so its parent is lexical; `..` at the root stays.
        resolved.pop();
        stats = this.lstat(resolved.join('/')) ?? stats;
        continue;
      }
      const candidate = resolved.length === 0 ? element : `${resolved.join('/')}/${element}`;
      const found = this.lstat(candidate);
      if (found === undefined) return { kind: 'absent', path: candidate, why: 'not-found' };
      const last = pending.every((rest) => rest === '' || rest === '.');
      // A trailing `/` (or more to walk) follows a symlink whatever `followLast` says, as the kernel does.
      if (found.isSymbolicLink() && (followLast || pending.length > 0)) {
        if (!this.present(candidate, false)) return { kind: 'absent', path: candidate, why: 'excluded' };
        links += 1;
        if (links > MAX_SYMLINKS) {
          throw new InputError(`${JSON.stringify(path)} in ${this.name}: too many levels of symbolic links`);
        }
        const target = readlinkSync(this.abs(candidate));
        if (target.startsWith('/')) resolved.length = 0;
        pending.push(...target.split('/').reverse());
        continue;
      }
      if (!this.present(candidate, found.isDirectory())) return { kind: 'absent', path: candidate, why: 'excluded' };
      if (!last && !found.isDirectory()) return { kind: 'absent', path: candidate, why: 'not-found' };
      resolved.push(element);
      stats = found;
    }
    return { kind: 'found', path: resolved.join('/'), stats };
  }

  /** The ignore rules' info of a directory in the tree, computed from the root down once. */
  #infoOf(dir: string): MatchInfo {
    const filter = this.filter;
    if (dir === '' || filter === undefined) return NO_PARENT_INFO;
    const known = this.#dirInfo.get(dir);
    if (known !== undefined) return known;
    const info = filter.check(dir, this.#infoOf(parentOf(dir))).info;
    this.#dirInfo.set(dir, info);
    return info;
  }
}

/** The parent of a root-relative path ('' for a path at the root). */
export function parentOf(path: string): string {
  const slash = path.lastIndexOf('/');
  return slash < 0 ? '' : path.slice(0, slash);
}

/** Orders directory entries bytewise by UTF-8 name, as Go sorts strings. */
export function compareNames(a: Dirent, b: Dirent): number {
  return compareUtf8(a.name, b.name);
}

/** Bytewise UTF-8 order of two strings (UTF-16 order differs only around surrogates). */
export function compareUtf8(a: string, b: string): number {
  if (a === b) return 0;
  const limit = Math.min(a.length, b.length);
  for (let i = 0; i < limit; i += 1) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    if (x < 0xd800 && y < 0xd800) return x - y;
    return Buffer.compare(Buffer.from(a.slice(i)), Buffer.from(b.slice(i)));
  }
  return a.length - b.length;
}
