import type { BigIntStats } from 'node:fs';
import { constants } from 'node:fs';
import { loadNative } from './load-native.ts';
import type { NativeDirectoryPrefetcher, NativeListing } from './native.d.ts';

/** One entry of {@link readDirectory}. */
export interface DirectoryEntry {
  readonly name: string;
  readonly stats: BigIntStats;
}

/**
 * The entries of the directory `path` (not `.` and `..`), sorted bytewise by name (Go's
 * order), each with what `lstatSync(join(path, name), {bigint: true})` would say of it, from
 * the native addon in one call: the directory read once, each entry stat'ed relative to it.
 * The stats are views of one packed array, their bigints and Dates made when read: a walk of
 * 20,000 files makes a fraction of the objects Node's Stats would (bench/contenthash.ts).
 *
 * An entry removed between the read and its stat is left out, as a later read would leave it
 * (a walk then never fails on a file that comes and goes, a log being rotated).
 *
 * Synchronous, on the JavaScript thread, as the tree walks that call it are.
 * @throws an error shaped like Node's fs errors: `scandir` (ENOENT, ENOTDIR, EACCES) for the
 * directory, `lstat` naming an entry that cannot be stat'ed.
 */
export function readDirectory(path: string): DirectoryEntry[] {
  return listDirectory(path).entries();
}

/** {@link readDirectory} as a {@link DirectoryListing}. */
export function listDirectory(path: string): DirectoryListing {
  return new DirectoryListing(loadNative().fs.readDirectory({ path }));
}

/**
 * {@link readDirectory} for a tree walk, with the reads done ahead on a thread of the
 * addon's while the walk handles what was read: the walk says which directories it will read next
 * (`prefetch`, in that order: those it says last come first), and `read(dir)` gives what
 * readDirectory(dir) would, read ahead or read then. A listing read ahead is as of when it was
 * read, as the walk's own read would be as of when it was made; one whose read failed is read
 * again. Nothing is read that the walk did not name.
 *
 * Ahead by at most 64 directories; `close()` stops the thread (ending the walk, on every
 * path). Without a thread (none could be started) every read is made by `read`.
 */
export class DirectoryReadAhead implements Disposable {
  readonly #native: NativeDirectoryPrefetcher = new (loadNative().fs.DirectoryPrefetcher)();

  /** Directories to read ahead, to be read in this order, before those named earlier. */
  prefetch(paths: readonly string[]): void {
    this.#native.prefetch({ paths });
  }

  /** The entries of `path`, as {@link readDirectory} gives them (and throws). */
  read(path: string): DirectoryEntry[] {
    return this.list(path).entries();
  }

  /** {@link read} as a {@link DirectoryListing}: an entry's stats are made only when asked for. */
  list(path: string): DirectoryListing {
    return new DirectoryListing(this.#native.take({ path }));
  }

  /** How many directories the thread has read. */
  get readAhead(): number {
    return this.#native.readAhead;
  }

  close(): void {
    this.#native.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

/**
 * A directory's entries as the addon read them: names sorted bytewise, and each entry's lstat
 * as a row of {@link FIELDS} fields in one packed array (`values`, also viewed as 32-bit
 * `words`), made into a {@link PackedStats} only when asked for. A walk that needs only to
 * know which entries are directories, or to compare the rows with rows it kept, makes none.
 */
export class DirectoryListing {
  /** The names, joined by `/` (UTF-8): compared whole, and split only when read. */
  readonly joinedNames: Buffer;
  readonly values: BigInt64Array;
  readonly words: Int32Array;
  #names: readonly string[] | undefined;

  constructor({ names, stats }: NativeListing) {
    this.joinedNames = names;
    this.values = stats;
    this.words = new Int32Array(stats.buffer, stats.byteOffset, stats.length * 2);
  }

  get length(): number {
    return this.values.length / FIELDS;
  }

  /** The names, sorted bytewise. */
  get names(): readonly string[] {
    this.#names ??= this.length === 0 ? [] : this.joinedNames.toString('utf8').split('/');
    return this.#names;
  }

  /** The file type bits (S_IFMT) of entry `index`. */
  type(index: number): number {
    return this.words[2 * (index * FIELDS + PACKED_FIELD.mode) + LOW_WORD]! & constants.S_IFMT;
  }

  isDirectory(index: number): boolean {
    return this.type(index) === constants.S_IFDIR;
  }

  /** Entry `index`'s lstat (a new view each call). */
  stats(index: number): PackedStats {
    return new PackedStats(this.values, this.words, index * FIELDS);
  }

  /** Every entry with its stats. */
  entries(): DirectoryEntry[] {
    const names = this.names;
    const entries: DirectoryEntry[] = new Array<DirectoryEntry>(names.length);
    for (let i = 0; i < entries.length; i++) entries[i] = { name: names[i]!, stats: this.stats(i) };
    return entries;
  }
}

/** Fields an entry in the native array, in native.d.ts's order. */
export const PACKED_FIELDS = 14;
const FIELDS = PACKED_FIELDS;
const NS_PER_MS = 1_000_000n;
/** Where a field's low 32 bits are among its two words: first on a little-endian machine. */
const LOW_WORD = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1 ? 0 : 1;

/** The index of each field in a packed row (native.d.ts's order). */
export const PACKED_FIELD = {
  dev: 0,
  ino: 1,
  mode: 2,
  nlink: 3,
  uid: 4,
  gid: 5,
  rdev: 6,
  size: 7,
  blksize: 8,
  blocks: 9,
  atimeNs: 10,
  mtimeNs: 11,
  ctimeNs: 12,
  birthtimeNs: 13,
} as const;

/**
 * A BigIntStats read from a row of the native array. Its fields are also readable as 32-bit
 * words (`words`, field `f` in words `2 × (row + f)` and the one after, in this machine's
 * byte order), which a comparison of fields can read without making a bigint each: a walk of
 * 20,000 entries made 200,000 of them to compare its stats with the stat cache's.
 */
export class PackedStats implements BigIntStats {
  readonly #values: BigInt64Array;
  readonly words: Int32Array;
  /** The row's first field, in fields (its first word is `2 × row`). */
  readonly row: number;
  /** The file type bits, kept as a number: the is*() checks are the most frequent reads. */
  readonly #type: number;

  constructor(values: BigInt64Array, words: Int32Array, row: number) {
    this.#values = values;
    this.words = words;
    this.row = row;
    this.#type = words[2 * (row + PACKED_FIELD.mode) + LOW_WORD]! & constants.S_IFMT;
  }

  /** `mode` as a number, without making a bigint (mode bits fit 32). */
  get modeBits(): number {
    return this.words[2 * (this.row + PACKED_FIELD.mode) + LOW_WORD]! >>> 0;
  }

  get dev(): bigint {
    return this.#values[this.row]!;
  }
  get ino(): bigint {
    return this.#values[this.row + 1]!;
  }
  get mode(): bigint {
    return this.#values[this.row + 2]!;
  }
  get nlink(): bigint {
    return this.#values[this.row + 3]!;
  }
  get uid(): bigint {
    return this.#values[this.row + 4]!;
  }
  get gid(): bigint {
    return this.#values[this.row + 5]!;
  }
  get rdev(): bigint {
    return this.#values[this.row + 6]!;
  }
  get size(): bigint {
    return this.#values[this.row + 7]!;
  }
  get blksize(): bigint {
    return this.#values[this.row + 8]!;
  }
  get blocks(): bigint {
    return this.#values[this.row + 9]!;
  }
  get atimeNs(): bigint {
    return this.#values[this.row + 10]!;
  }
  get mtimeNs(): bigint {
    return this.#values[this.row + 11]!;
  }
  get ctimeNs(): bigint {
    return this.#values[this.row + 12]!;
  }
  get birthtimeNs(): bigint {
    return this.#values[this.row + 13]!;
  }
  // As Node: milliseconds are the nanoseconds divided, truncated; the Dates are made of them.
  get atimeMs(): bigint {
    return this.atimeNs / NS_PER_MS;
  }
  get mtimeMs(): bigint {
    return this.mtimeNs / NS_PER_MS;
  }
  get ctimeMs(): bigint {
    return this.ctimeNs / NS_PER_MS;
  }
  get birthtimeMs(): bigint {
    return this.birthtimeNs / NS_PER_MS;
  }
  get atime(): Date {
    return new Date(Number(this.atimeMs));
  }
  get mtime(): Date {
    return new Date(Number(this.mtimeMs));
  }
  get ctime(): Date {
    return new Date(Number(this.ctimeMs));
  }
  get birthtime(): Date {
    return new Date(Number(this.birthtimeMs));
  }

  isFile(): boolean {
    return this.#type === constants.S_IFREG;
  }
  isDirectory(): boolean {
    return this.#type === constants.S_IFDIR;
  }
  isSymbolicLink(): boolean {
    return this.#type === constants.S_IFLNK;
  }
  isFIFO(): boolean {
    return this.#type === constants.S_IFIFO;
  }
  isSocket(): boolean {
    return this.#type === constants.S_IFSOCK;
  }
  isCharacterDevice(): boolean {
    return this.#type === constants.S_IFCHR;
  }
  isBlockDevice(): boolean {
    return this.#type === constants.S_IFBLK;
  }
}
