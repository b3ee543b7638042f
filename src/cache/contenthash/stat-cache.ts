import type { BigIntStats } from 'node:fs';
import { constants } from 'node:fs';
import { open, readFile } from 'node:fs/promises';
import { PACKED_FIELD, PackedStats } from '../../native/index.ts';
import type { Digest } from '../../content/index.ts';
import { writeFileAtomic } from './atomic-write.ts';
import { ListingMemo } from './listing-memo.ts';
import {
  decodeStatCacheFile,
  encodeStatCacheDelta,
  encodeStatCacheFile,
  SIGNATURE_FIELDS,
  type StatCacheFileContents,
  type StatCacheRows,
  TOMBSTONE_SIZE,
} from './stat-cache-file.ts';

/**
 * Remembers a digest of each path's content by its metadata, so hashing a context again
 * reads only what changed: git's index idea. An entry is trusted while the path's size,
 * mtime and ctime (nanoseconds), inode and device are all as recorded. One is recorded only
 * when the path had not changed within {@link RACY_NS} before it was read: a write in the
 * same timestamp tick would not move the times (git's "racily clean" entries, racy-git.txt),
 * so such a path is read again next time.
 */
export interface StatCache {
  /** The digest recorded for `path` when `stats` (its lstat) still match. */
  lookup(path: string, stats: BigIntStats): Digest | undefined;
  /**
   * Records the digest of `path`, read after its lstat gave `stats`; `readAt` is when the
   * read began (wall clock, ns; default now). A path changed within {@link RACY_NS} before
   * `readAt` is forgotten instead.
   */
  record(path: string, stats: BigIntStats, digest: Digest, readAt?: bigint): void;
  /** Wall-clock time in nanoseconds, as the cache compares it with file times. */
  now(): bigint;
  /** Writes the entries to the cache's file atomically, when anything changed (and its listings to theirs). */
  save(): Promise<void>;
  /** How many entries it holds. */
  readonly size: number;
  /**
   * What the checksum made of whole directories, by their listing, kept beside the stat
   * cache's file (listing-memo.ts); absent from caches that keep none.
   */
  readonly listings?: ListingMemo;
}

/** Options of {@link openStatCache}. */
export interface StatCacheOptions {
  /** The wall clock in nanoseconds (tests pass a fixed one). */
  readonly now?: () => bigint;
  /** The most entries kept; past it, entries unused since opening go first. Default 1,000,000. */
  readonly maxEntries?: number;
}

/**
 * A file changed less than this before it was read may change again without its times
 * moving: Linux stamps files from a coarse clock that ticks every jiffy (up to 10 ms).
 */
export const RACY_NS = 20_000_000n;

/**
 * Opens the stat cache kept in `file` (the binary layout of stat-cache-file.ts, written by
 * {@link StatCache.save}); a missing, unreadable, malformed or damaged file starts an empty
 * cache, since the cache only saves work. Paths are whatever the caller looks up (absolute
 * host paths). One cache per build context directory is the intended use; concurrent savers
 * of one file keep the entries of the last one to write it whole, and the changes of any
 * that append after it.
 */
export async function openStatCache(file: string, options: StatCacheOptions = {}): Promise<StatCache> {
  const [bytes, listings] = await Promise.all([readFile(file).catch(() => undefined), ListingMemo.open(listingsFile(file))]);
  return new LazyStatCache(file, bytes, listings, options);
}

/**
 * A stat cache whose file is decoded when first used: a build whose context directories
 * are all as its listings remember them (listing-memo.ts) looks up no file, and spares the
 * decoding (a tenth of a 20,000-file context's no-op).
 */
class LazyStatCache implements StatCache {
  readonly listings: ListingMemo;
  readonly #file: string;
  #bytes: Buffer | undefined;
  readonly #options: StatCacheOptions;
  #loaded: FileStatCache | undefined;

  constructor(file: string, bytes: Buffer | undefined, listings: ListingMemo, options: StatCacheOptions) {
    this.#file = file;
    this.#bytes = bytes;
    this.listings = listings;
    this.#options = options;
  }

  get #cache(): FileStatCache {
    if (this.#loaded === undefined) {
      const bytes = this.#bytes;
      this.#bytes = undefined;
      this.#loaded = new FileStatCache(this.#file, bytes === undefined ? undefined : decodeStatCacheFile(bytes), this.#options);
    }
    return this.#loaded;
  }

  get size(): number {
    return this.#cache.size;
  }

  lookup(path: string, stats: BigIntStats): Digest | undefined {
    return this.#cache.lookup(path, stats);
  }

  record(path: string, stats: BigIntStats, digest: Digest, readAt?: bigint): void {
    this.#cache.record(path, stats, digest, readAt);
  }

  now(): bigint {
    return (this.#options.now ?? wallClockNs)();
  }

  async save(): Promise<void> {
    // Never used: nothing to save.
    await Promise.all([this.#loaded?.save(), this.listings.save()]);
  }
}

/** Where the listings of the stat cache kept in `file` are: `x.bin` → `x.listings`. */
function listingsFile(file: string): string {
  return `${file.endsWith('.bin') ? file.slice(0, -'.bin'.length) : file}.listings`;
}

/**
 * The changes a save appends to the file rather than writing it whole: up to this many, or
 * an eighth of the entries, whichever is more, counting those appended before.
 */
const APPEND_ROWS = 1024;

/**
 * The entries of the file's base stay in its columns (looked up by index, compared as
 * numbers: no object or string per entry); entries recorded since, or by the file's deltas,
 * go into columns of the same shape, found by path through a map above them. (An object per
 * recorded entry, with its five BigInts and digest string, held about 7 MB of a 20,000-file
 * context's cold build.)
 */
class FileStatCache implements Omit<StatCache, 'listings'> {
  readonly #file: string;
  readonly #now: () => bigint;
  readonly #maxEntries: number;
  readonly #loaded: StatCacheRows;
  readonly #loadedWords: Int32Array;
  /** Loaded entries by path, as their row. */
  readonly #rows = new Map<string, number>();
  /** Per loaded row: 1 when looked up and found since opening, 2 when dropped or replaced. */
  readonly #rowState: Uint8Array;
  /** How many loaded rows are dropped. */
  #droppedRows = 0;
  /** Entries recorded since opening (or by the file's deltas), by path, as their index in the columns below. */
  readonly #recorded = new Map<string, number>();
  /** Signatures (SIGNATURE_FIELDS a row) and digests (32 bytes a row) recorded, `#count` rows used. */
  #signatures = new BigInt64Array(256 * SIGNATURE_FIELDS);
  #signatureWords = wordsOf(this.#signatures);
  #digests = Buffer.alloc(256 * 32);
  #count = 0;
  /** What the file lacks: each path changed since it was read or written, and its entry's index (undefined: dropped). */
  readonly #changes = new Map<string, number | undefined>();
  /** Whether the file can take the changes appended: it was read whole (or written), and its deltas are few. */
  #appendable: boolean;
  /** Rows in the file's deltas. */
  #deltaRows: number;

  constructor(file: string, contents: StatCacheFileContents | undefined, options: StatCacheOptions) {
    this.#file = file;
    this.#now = options.now ?? wallClockNs;
    this.#maxEntries = options.maxEntries ?? 1_000_000;
    this.#loaded = contents?.base ?? { paths: [], signatures: new BigInt64Array(0), digests: Buffer.alloc(0) };
    this.#loadedWords = wordsOf(this.#loaded.signatures);
    this.#appendable = contents !== undefined && !contents.damagedTail;
    this.#deltaRows = contents?.deltaRows ?? 0;
    const paths = this.#loaded.paths;
    this.#rowState = new Uint8Array(paths.length);
    for (let row = 0; row < paths.length; row += 1) this.#rows.set(paths[row] as string, row);
    // A path twice in a base (never written so) keeps its last row; the others are dropped.
    if (this.#rows.size !== this.#loaded.paths.length) {
      for (const [row, path] of this.#loaded.paths.entries()) if (this.#rows.get(path) !== row) this.#drop(row);
    }
    // The deltas, in order: each row replaces the path's entry, or drops it (a tombstone).
    for (const delta of contents?.deltas ?? []) {
      for (const [row, path] of delta.paths.entries()) {
        this.#forget(path);
        const at = row * SIGNATURE_FIELDS;
        if (delta.signatures[at] === TOMBSTONE_SIZE) continue;
        this.#add(path, delta.signatures.subarray(at, at + SIGNATURE_FIELDS), delta.digests.subarray(row * 32, row * 32 + 32));
      }
    }
  }

  get size(): number {
    return this.#recorded.size + this.#loaded.paths.length - this.#droppedRows;
  }

  now(): bigint {
    return this.#now();
  }

  lookup(path: string, stats: BigIntStats): Digest | undefined {
    const recorded = this.#recorded.get(path);
    if (recorded !== undefined) {
      if (!sameSignature(this.#signatures, this.#signatureWords, recorded, stats)) return undefined;
      return `sha256:${this.#digests.toString('hex', recorded * 32, recorded * 32 + 32)}` as Digest;
    }
    const row = this.#rows.get(path);
    if (row === undefined || this.#rowState[row] === DROPPED) return undefined;
    const { signatures, digests } = this.#loaded;
    if (!sameSignature(signatures, this.#loadedWords, row, stats)) return undefined;
    this.#rowState[row] = USED;
    return `sha256:${digests.toString('hex', row * 32, row * 32 + 32)}` as Digest;
  }

  record(path: string, stats: BigIntStats, digest: Digest, readAt: bigint = this.#now()): void {
    const changed = stats.ctimeNs > stats.mtimeNs ? stats.ctimeNs : stats.mtimeNs;
    if (changed + RACY_NS >= readAt) {
      if (this.#forget(path)) this.#changes.set(path, undefined);
      return;
    }
    if (this.lookup(path, stats) === digest) return;
    this.#forget(path);
    const index = this.#reserve(path);
    const at = index * SIGNATURE_FIELDS;
    this.#signatures[at] = stats.size;
    this.#signatures[at + 1] = stats.mtimeNs;
    this.#signatures[at + 2] = stats.ctimeNs;
    this.#signatures[at + 3] = stats.ino;
    this.#signatures[at + 4] = stats.dev;
    this.#digests.write(digest.slice('sha256:'.length), index * 32, 32, 'hex');
    this.#changes.set(path, index);
  }

  async save(): Promise<void> {
    if (this.#changes.size === 0) return;
    const changes = this.#changes.size;
    if (this.#appendable && this.size <= this.#maxEntries && this.#deltaRows + changes <= Math.max(APPEND_ROWS, this.size / 8)) {
      if (await this.#append()) return;
    }
    await this.#writeWhole();
  }

  /** Appends the changes to the file as a delta; false when the file is gone. */
  async #append(): Promise<boolean> {
    // What is recorded while the write is under way stays for the next save.
    const changes = [...this.#changes].filter(([path]) => !path.includes('\0'));
    const paths: string[] = [];
    const signatures = new BigInt64Array(changes.length * SIGNATURE_FIELDS);
    const digests = Buffer.alloc(changes.length * 32);
    for (const [path, index] of changes) {
      const row = paths.length;
      paths.push(path);
      if (index === undefined) signatures[row * SIGNATURE_FIELDS] = TOMBSTONE_SIZE;
      else {
        signatures.set(this.#signatures.subarray(index * SIGNATURE_FIELDS, (index + 1) * SIGNATURE_FIELDS), row * SIGNATURE_FIELDS);
        this.#digests.copy(digests, row * 32, index * 32, index * 32 + 32);
      }
    }
    const bytes = encodeStatCacheDelta({ paths, signatures, digests });
    // Not created: a delta alone is no file. One write call, so concurrent appends do not interleave.
    const handle = await open(this.#file, constants.O_WRONLY | constants.O_APPEND).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return undefined;
      throw error;
    });
    if (handle === undefined) return false;
    try {
      const { bytesWritten } = await handle.write(bytes);
      // Short (a full disk): the tail is torn, and only a whole write mends it.
      if (bytesWritten !== bytes.length) this.#appendable = false;
    } finally {
      await handle.close();
    }
    this.#deltaRows += paths.length;
    this.#forgetSaved(changes);
    return true;
  }

  /** Drops from #changes what a save wrote, unless recorded again since. */
  #forgetSaved(saved: readonly (readonly [string, number | undefined])[]): void {
    for (const [path, index] of saved) if (this.#changes.get(path) === index) this.#changes.delete(path);
  }

  /** Writes every entry as a new base, atomically. */
  async #writeWhole(): Promise<void> {
    const saved = [...this.#changes];
    const over = this.size > this.#maxEntries;
    const kept: string[] = [];
    const rows: number[] = [];
    // Past the limit only the entries used since opening are kept; never more than the limit.
    const keep = (path: string, used: boolean): boolean => kept.length < this.#maxEntries && (used || !over) && !path.includes('\0');
    for (const [row, path] of this.#loaded.paths.entries()) {
      const state = this.#rowState[row];
      if (state === DROPPED || !keep(path, state === USED)) continue;
      kept.push(path);
      rows.push(row);
    }
    // Recorded entries count as used: each was read or found in this run.
    const recorded: number[] = [];
    for (const [path, index] of this.#recorded) {
      if (!keep(path, true)) continue;
      kept.push(path);
      recorded.push(index);
    }
    const signatures = new BigInt64Array(kept.length * SIGNATURE_FIELDS);
    const digests = Buffer.alloc(kept.length * 32);
    const loaded = this.#loaded;
    // Loaded rows kept are copied in runs of consecutive rows (usually one run: all of them).
    for (let index = 0; index < rows.length; ) {
      const first = rows[index] as number;
      let end = index + 1;
      while (end < rows.length && rows[end] === first + (end - index)) end += 1;
      const last = first + (end - index);
      signatures.set(loaded.signatures.subarray(first * SIGNATURE_FIELDS, last * SIGNATURE_FIELDS), index * SIGNATURE_FIELDS);
      digests.set(loaded.digests.subarray(first * 32, last * 32), index * 32);
      index = end;
    }
    for (const [offset, from] of recorded.entries()) {
      const index = rows.length + offset;
      signatures.set(this.#signatures.subarray(from * SIGNATURE_FIELDS, (from + 1) * SIGNATURE_FIELDS), index * SIGNATURE_FIELDS);
      this.#digests.copy(digests, index * 32, from * 32, from * 32 + 32);
    }
    // The file carries a digest of each segment, so a torn or lost write reads as damaged (an
    // empty cache): it need not be forced to disk before the rename.
    await writeFileAtomic(this.#file, encodeStatCacheFile({ paths: kept, signatures, digests }), { sync: false });
    this.#forgetSaved(saved);
    this.#appendable = true;
    this.#deltaRows = 0;
  }

  /** A row of the recorded columns for `path` (which has none), its values to be written by the caller. */
  #reserve(path: string): number {
    if (this.#count * 32 === this.#digests.length) this.#grow();
    const index = this.#count++;
    this.#recorded.set(path, index);
    return index;
  }

  /** Adds an entry read from a delta to the recorded columns (the path has none). */
  #add(path: string, signature: BigInt64Array, digest: Uint8Array): void {
    const index = this.#reserve(path);
    this.#signatures.set(signature, index * SIGNATURE_FIELDS);
    this.#digests.set(digest, index * 32);
  }

  /** Doubles the recorded columns (a replaced entry's row stays unused until the next open). */
  #grow(): void {
    const signatures = new BigInt64Array(this.#signatures.length * 2);
    signatures.set(this.#signatures);
    this.#signatures = signatures;
    this.#signatureWords = wordsOf(signatures);
    const digests = Buffer.alloc(this.#digests.length * 2);
    this.#digests.copy(digests);
    this.#digests = digests;
  }

  /** Drops what is known of `path`; true when anything was. */
  #forget(path: string): boolean {
    const row = this.#rows.get(path);
    let forgot = this.#recorded.delete(path);
    if (row !== undefined && this.#rowState[row] !== DROPPED) {
      this.#drop(row);
      forgot = true;
    }
    return forgot;
  }

  #drop(row: number): void {
    if (this.#rowState[row] === DROPPED) return;
    this.#rowState[row] = DROPPED;
    this.#droppedRows += 1;
  }
}

/** The same memory as 32-bit words. */
function wordsOf(values: BigInt64Array): Int32Array {
  return new Int32Array(values.buffer, values.byteOffset, values.length * 2);
}

const USED = 1;
const DROPPED = 2;

/** Where each signature field (size, mtime, ctime, inode, device) is in a packed stat row. */
const PACKED_SIGNATURE = [PACKED_FIELD.size, PACKED_FIELD.mtimeNs, PACKED_FIELD.ctimeNs, PACKED_FIELD.ino, PACKED_FIELD.dev] as const;

/**
 * Whether row `row` of `signatures` (size, mtime, ctime, inode, device) is `stats'`;
 * `signatureWords` views the same memory as 32-bit words.
 */
function sameSignature(signatures: BigInt64Array, signatureWords: Int32Array, row: number, stats: BigIntStats): boolean {
  const at = row * SIGNATURE_FIELDS;
  if (stats instanceof PackedStats) {
    // Compared as 32-bit words, making no bigint.
    const words = stats.words;
    for (let field = 0; field < SIGNATURE_FIELDS; field++) {
      const word = 2 * (stats.row + PACKED_SIGNATURE[field]!);
      const expected = 2 * (at + field);
      if (words[word] !== signatureWords[expected] || words[word + 1] !== signatureWords[expected + 1]) return false;
    }
    return true;
  }
  return (
    signatures[at] === stats.size &&
    signatures[at + 1] === stats.mtimeNs &&
    signatures[at + 2] === stats.ctimeNs &&
    signatures[at + 3] === stats.ino &&
    signatures[at + 4] === stats.dev
  );
}

/** The wall clock (CLOCK_REALTIME, as file times) in nanoseconds, to the microsecond. */
function wallClockNs(): bigint {
  return BigInt(Math.round((performance.timeOrigin + performance.now()) * 1000)) * 1000n;
}
