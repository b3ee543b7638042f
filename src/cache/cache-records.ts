import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { LRUCache } from 'lru-cache';
import { isDigest, type Digest } from '../content/index.ts';
import type { Descriptor, DiffId } from '../image/index.ts';
import { isCacheKey, type CacheKey, type CacheKeyInput } from './cache-key.ts';

/** One layer of a step's result: the blob in the content store and its DiffID. */
export interface LayerRef {
  readonly descriptor: Descriptor;
  readonly diffId: DiffId;
  /** Bytes of the uncompressed tar. */
  readonly size: number;
  /** When the step that made the layer ran (ISO 8601): its history entry's time, kept across cache hits. */
  readonly created?: string;
}

/**
 * What a cache hit reuses: the file system a step produced, as its whole layer stack (base
 * image layers first), and what went into the key, so that a later miss can say what
 * changed.
 */
export interface CacheRecord {
  readonly kind: 'cache-record';
  readonly schema: 1;
  readonly key: CacheKey;
  readonly layers: readonly LayerRef[];
  /**
   * The step's layer stands on its own (`COPY --link`): `layers` is that one layer, which goes
   * on top of whatever its parent's result is now.
   */
  readonly rebase?: boolean;
  /**
   * The key the step's result goes by when this record is an alias found under another key
   * (a copy's key over the source stage's key, pointing at the record keyed by the content
   * it read); absent when it is `key`.
   */
  readonly resultKey?: CacheKey;
  readonly inputs: CacheKeyInput['inputs'];
  /** When the step ran (ISO 8601). */
  readonly created: string;
}

/** Options of {@link CacheRecords.open}. */
export interface CacheRecordsOptions {
  /** Records kept in memory in front of the disk index; 4096 by default. */
  readonly memoryEntries?: number;
}

/**
 * The build cache's index: cache key → record, one JSON file per key under
 * `<root>/cache/records/` (written to a temporary name and renamed, so readers never see
 * half a record and several kiln processes may write at once: the last writer of a key
 * wins, and both wrote the same meaning), with an LRU in front. Alongside, `slots/` keeps
 * for each step of a Dockerfile (its slot: file, stage and position) the key it last had,
 * so a miss can be explained against it.
 *
 * Records say nothing of snapshots: a hit's file system is rebuilt from its layers when a
 * later step needs it (the snapshotter unpacks by chain ID, reusing what exists).
 */
export class CacheRecords {
  readonly #dir: string;
  readonly #memory: LRUCache<string, CacheRecord>;

  private constructor(dir: string, memoryEntries: number) {
    this.#dir = dir;
    this.#memory = new LRUCache({ max: memoryEntries });
  }

  /** Opens (creating) the index under `<root>/cache`. */
  static async open(root: string, options: CacheRecordsOptions = {}): Promise<CacheRecords> {
    const dir = join(root, 'cache');
    await mkdir(join(dir, 'records'), { recursive: true });
    await mkdir(join(dir, 'slots'), { recursive: true });
    return new CacheRecords(dir, options.memoryEntries ?? 4096);
  }

  /** The record of `key`, or undefined. A record that cannot be read whole counts as absent. */
  async get(key: CacheKey): Promise<CacheRecord | undefined> {
    const cached = this.#memory.get(key);
    if (cached !== undefined) return cached;
    const text = readText(this.#recordPath(key));
    if (text === undefined) return undefined;
    const record = parseRecord(text, key);
    if (record !== undefined) this.#memory.set(key, record);
    return record;
  }

  /** Records a step's result (replacing any record of the same key). */
  async put(record: CacheRecord): Promise<void> {
    await writeAtomic(this.#recordPath(record.key), `${JSON.stringify(record)}\n`);
    this.#memory.set(record.key, record);
  }

  /** Marks a record used now: the age policy of pruning goes by last use. */
  async touch(key: CacheKey): Promise<void> {
    const now = new Date();
    try {
      utimesSync(this.#recordPath(key), now, now);
    } catch {
      // Pruned meanwhile.
    }
  }

  /** The key `slot` had at its last run, if any. */
  async lastKey(slot: string): Promise<CacheKey | undefined> {
    const text = readText(this.#slotPath(slot));
    const key = text?.trim();
    return isCacheKey(key) ? key : undefined;
  }

  /** Remembers that `slot` ran with `key`. */
  async setLastKey(slot: string, key: CacheKey): Promise<void> {
    await writeAtomic(this.#slotPath(slot), `${key}\n`);
  }

  /** Every record on disk with its size on disk and last use, for pruning and `kiln du`. */
  async *list(): AsyncGenerator<{ record: CacheRecord; used: number }> {
    for (const name of readdirSync(join(this.#dir, 'records'))) {
      if (!name.endsWith('.json')) continue;
      const path = join(this.#dir, 'records', name);
      const text = readText(path);
      const info = statSync(path, { throwIfNoEntry: false });
      if (text === undefined || info === undefined) continue;
      const record = parseRecord(text, undefined);
      if (record !== undefined) yield { record, used: info.mtimeMs };
    }
  }

  /** Forgets a record. */
  async delete(key: CacheKey): Promise<void> {
    this.#memory.delete(key);
    rmSync(this.#recordPath(key), { force: true });
  }

  #recordPath(key: CacheKey): string {
    return join(this.#dir, 'records', `${key.slice('sha256:'.length)}.json`);
  }

  #slotPath(slot: string): string {
    return join(this.#dir, 'slots', slot.replace(/^sha256:/, ''));
  }
}

/*
 * Records and slots are small files, read and written with synchronous calls: a build reads
 * or writes a few per step, and each synchronous call costs a tenth of a round trip through
 * libuv's thread pool.
 */
async function writeAtomic(path: string, text: string): Promise<void> {
  const temporary = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    writeFileSync(temporary, text);
    renameSync(temporary, path);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw error;
  }
}

/** The file's text, or undefined when it cannot be read. */
function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

function parseRecord(text: string, key: CacheKey | undefined): CacheRecord | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const record = value as Partial<CacheRecord>;
  if (record.kind !== 'cache-record' || record.schema !== 1 || !isCacheKey(record.key)) return undefined;
  if (key !== undefined && record.key !== key) return undefined;
  if (!Array.isArray(record.layers) || !Array.isArray(record.inputs)) return undefined;
  if (record.resultKey !== undefined && !isCacheKey(record.resultKey)) return undefined;
  for (const layer of record.layers as unknown[]) {
    const l = layer as Partial<LayerRef>;
    if (typeof l !== 'object' || l === null || !isDigest(l.diffId ?? '') || !isDigest((l.descriptor?.digest as Digest | undefined) ?? '')) {
      return undefined;
    }
  }
  return record as CacheRecord;
}
