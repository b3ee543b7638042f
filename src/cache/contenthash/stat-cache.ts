import type { BigIntStats } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { type Digest, isDigest } from '../../content/index.ts';
import { writeFileAtomic } from './atomic-write.ts';

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
  /** Writes the entries to the cache's file atomically, when anything changed. */
  save(): Promise<void>;
  /** How many entries it holds. */
  readonly size: number;
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

const SCHEMA = 'kiln.contenthash.statcache.v1';

interface Entry {
  /** size, mtime, ctime, inode and device, joined: compared as one string. */
  readonly signature: string;
  readonly digest: Digest;
  used: boolean;
}

type StoredEntry = [path: string, signature: string, digest: string];

/**
 * Opens the stat cache kept in `file` (JSON, written by {@link StatCache.save}); a missing,
 * unreadable or malformed file starts an empty cache, since the cache only saves work.
 * Paths are whatever the caller looks up (absolute host paths). One cache per build context
 * directory is the intended use; concurrent savers of one file leave the last one's entries.
 */
export async function openStatCache(file: string, options: StatCacheOptions = {}): Promise<StatCache> {
  const entries = new Map<string, Entry>();
  const text = await readFile(file, 'utf8').catch(() => undefined);
  if (text !== undefined) load(text, entries);
  return new FileStatCache(file, entries, options);
}

class FileStatCache implements StatCache {
  readonly #file: string;
  readonly #entries: Map<string, Entry>;
  readonly #now: () => bigint;
  readonly #maxEntries: number;
  #dirty = false;

  constructor(file: string, entries: Map<string, Entry>, options: StatCacheOptions) {
    this.#file = file;
    this.#entries = entries;
    this.#now = options.now ?? wallClockNs;
    this.#maxEntries = options.maxEntries ?? 1_000_000;
  }

  get size(): number {
    return this.#entries.size;
  }

  now(): bigint {
    return this.#now();
  }

  lookup(path: string, stats: BigIntStats): Digest | undefined {
    const entry = this.#entries.get(path);
    if (entry === undefined || entry.signature !== signatureOf(stats)) return undefined;
    entry.used = true;
    return entry.digest;
  }

  record(path: string, stats: BigIntStats, digest: Digest, readAt: bigint = this.#now()): void {
    const changed = stats.ctimeNs > stats.mtimeNs ? stats.ctimeNs : stats.mtimeNs;
    if (changed + RACY_NS >= readAt) {
      if (this.#entries.delete(path)) this.#dirty = true;
      return;
    }
    const signature = signatureOf(stats);
    const known = this.#entries.get(path);
    if (known !== undefined && known.signature === signature && known.digest === digest) {
      known.used = true;
      return;
    }
    this.#entries.set(path, { signature, digest, used: true });
    this.#dirty = true;
  }

  async save(): Promise<void> {
    if (!this.#dirty) return;
    if (this.#entries.size > this.#maxEntries) {
      for (const [path, entry] of this.#entries) if (!entry.used) this.#entries.delete(path);
    }
    const stored: StoredEntry[] = [];
    for (const [path, entry] of this.#entries) {
      if (stored.length >= this.#maxEntries) break;
      stored.push([path, entry.signature, entry.digest]);
    }
    await writeFileAtomic(this.#file, JSON.stringify({ schema: SCHEMA, entries: stored }));
    this.#dirty = false;
  }
}

function signatureOf(stats: BigIntStats): string {
  return `${stats.size}:${stats.mtimeNs}:${stats.ctimeNs}:${stats.ino}:${stats.dev}`;
}

function load(text: string, entries: Map<string, Entry>): void {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return;
  }
  if (typeof parsed !== 'object' || parsed === null) return;
  const { schema, entries: stored } = parsed as { schema?: unknown; entries?: unknown };
  if (schema !== SCHEMA || !Array.isArray(stored)) return;
  for (const row of stored as unknown[]) {
    if (!Array.isArray(row) || row.length !== 3) continue;
    const [path, signature, digest] = row as unknown[];
    if (typeof path !== 'string' || typeof signature !== 'string' || typeof digest !== 'string' || !isDigest(digest)) continue;
    entries.set(path, { signature, digest, used: false });
  }
}

/** The wall clock (CLOCK_REALTIME, as file times) in nanoseconds, to the microsecond. */
function wallClockNs(): bigint {
  return BigInt(Math.round((performance.timeOrigin + performance.now()) * 1000)) * 1000n;
}
