import type { BigIntStats } from 'node:fs';
import { constants } from 'node:fs';
import { loadNative } from './load-native.ts';

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
  const { names, stats } = loadNative().fs.readDirectory({ path });
  const entries: DirectoryEntry[] = new Array<DirectoryEntry>(names.length);
  for (let i = 0; i < names.length; i++) entries[i] = { name: names[i]!, stats: new PackedStats(stats, i * FIELDS) };
  return entries;
}

/** Fields an entry in the native array, in native.d.ts's order. */
const FIELDS = 14;
const NS_PER_MS = 1_000_000n;

/** A BigIntStats read from a row of the native array. */
class PackedStats implements BigIntStats {
  readonly #values: BigInt64Array;
  readonly #at: number;
  /** The file type bits, kept as a number: the is*() checks are the most frequent reads. */
  readonly #type: number;

  constructor(values: BigInt64Array, at: number) {
    this.#values = values;
    this.#at = at;
    this.#type = Number(values[at + 2]!) & constants.S_IFMT;
  }

  get dev(): bigint {
    return this.#values[this.#at]!;
  }
  get ino(): bigint {
    return this.#values[this.#at + 1]!;
  }
  get mode(): bigint {
    return this.#values[this.#at + 2]!;
  }
  get nlink(): bigint {
    return this.#values[this.#at + 3]!;
  }
  get uid(): bigint {
    return this.#values[this.#at + 4]!;
  }
  get gid(): bigint {
    return this.#values[this.#at + 5]!;
  }
  get rdev(): bigint {
    return this.#values[this.#at + 6]!;
  }
  get size(): bigint {
    return this.#values[this.#at + 7]!;
  }
  get blksize(): bigint {
    return this.#values[this.#at + 8]!;
  }
  get blocks(): bigint {
    return this.#values[this.#at + 9]!;
  }
  get atimeNs(): bigint {
    return this.#values[this.#at + 10]!;
  }
  get mtimeNs(): bigint {
    return this.#values[this.#at + 11]!;
  }
  get ctimeNs(): bigint {
    return this.#values[this.#at + 12]!;
  }
  get birthtimeNs(): bigint {
    return this.#values[this.#at + 13]!;
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
