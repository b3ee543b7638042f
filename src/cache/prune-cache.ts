import { statfs } from 'node:fs/promises';
import type { CacheKey } from './cache-key.ts';
import type { CacheRecords } from './cache-records.ts';

/** Which build-cache records to drop (`kiln prune` flags, or the automatic policy). */
export interface CachePrunePolicy {
  /** Every record. */
  readonly all?: boolean;
  /** Records last used before this time (ms since the epoch). */
  readonly until?: number;
  /** Then the least recently used records until the cache's own blobs take at most this many bytes. */
  readonly keepStorage?: number;
}

/** What the build cache holds, or what a prune took from it. */
export interface CacheUsage {
  readonly records: number;
  /** Bytes of the blobs only the build cache needs (an image's layers are counted as the image's). */
  readonly bytes: number;
}

interface Entry {
  readonly key: CacheKey;
  readonly used: number;
  readonly blobs: readonly (readonly [string, number])[];
}

async function entries(records: CacheRecords): Promise<Entry[]> {
  const found: Entry[] = [];
  for await (const { record, used } of records.list()) {
    found.push({ key: record.key, used, blobs: record.layers.map((l) => [l.descriptor.digest, l.descriptor.size] as const) });
  }
  return found;
}

/** Every blob a build-cache record needs: GC roots for the image store. */
export async function cacheBlobs(records: CacheRecords): Promise<Set<string>> {
  const blobs = new Set<string>();
  for (const entry of await entries(records)) for (const [digest] of entry.blobs) blobs.add(digest);
  return blobs;
}

/** How many records the cache has and the bytes of the blobs only it needs. */
export async function cacheUsage(records: CacheRecords, imageBlobs: ReadonlySet<string>): Promise<CacheUsage> {
  const all = await entries(records);
  const sizes = new Map<string, number>();
  for (const entry of all) for (const [digest, size] of entry.blobs) if (!imageBlobs.has(digest)) sizes.set(digest, size);
  let bytes = 0;
  for (const size of sizes.values()) bytes += size;
  return { records: all.length, bytes };
}

/**
 * Drops build-cache records as `policy` says, least recently used first, and returns how many
 * and the bytes of blobs that no remaining record or image needs any more (what the sweep that
 * follows frees). Records only point at blobs: the caller sweeps the store afterwards.
 */
export async function pruneBuildCache(records: CacheRecords, policy: CachePrunePolicy, imageBlobs: ReadonlySet<string>): Promise<CacheUsage> {
  const all = (await entries(records)).sort((a, b) => a.used - b.used);
  const refs = new Map<string, { count: number; size: number }>();
  for (const entry of all) {
    for (const [digest, size] of entry.blobs) {
      if (imageBlobs.has(digest)) continue;
      const ref = refs.get(digest) ?? { count: 0, size };
      ref.count++;
      refs.set(digest, ref);
    }
  }
  let held = 0;
  for (const ref of refs.values()) held += ref.size;
  let removed = 0;
  let freed = 0;
  for (const entry of all) {
    const drop =
      policy.all === true ||
      (policy.until !== undefined && entry.used < policy.until) ||
      (policy.keepStorage !== undefined && held > policy.keepStorage);
    if (!drop) continue;
    await records.delete(entry.key);
    removed++;
    for (const [digest] of new Map(entry.blobs).entries()) {
      const ref = refs.get(digest);
      if (ref === undefined) continue;
      ref.count -= entry.blobs.filter(([d]) => d === digest).length;
      if (ref.count <= 0) {
        refs.delete(digest);
        held -= ref.size;
        freed += ref.size;
      }
    }
  }
  return { records: removed, bytes: freed };
}

/**
 * The automatic policy applied after every build, so a CI disk does not fill: the cache's own
 * blobs are kept under `KILN_CACHE_KEEP_STORAGE` (a size: `5g`, `500m`; default 10 % of the
 * file system holding the root, at most 20 GiB and at least 512 MiB; `0` turns the policy
 * off) and records unused for `KILN_CACHE_KEEP_DURATION` (`72h`, `7d`; default 7 days) go.
 * @throws Error naming the variable when its value is malformed.
 */
export async function defaultCachePolicy(root: string, env: NodeJS.ProcessEnv = process.env): Promise<CachePrunePolicy | undefined> {
  const storageText = env['KILN_CACHE_KEEP_STORAGE'];
  const durationText = env['KILN_CACHE_KEEP_DURATION'];
  if (storageText?.trim() === '0') return undefined;
  let keepStorage: number;
  if (storageText === undefined || storageText.trim() === '') {
    const fs = await statfs(root);
    const tenth = (fs.blocks * fs.bsize) / 10;
    keepStorage = Math.max(512 * 1024 ** 2, Math.min(20 * 1024 ** 3, tenth));
  } else {
    keepStorage = parseSize(storageText, 'KILN_CACHE_KEEP_STORAGE');
  }
  const duration = durationText === undefined || durationText.trim() === '' ? 7 * 24 * 3600_000 : parseDuration(durationText, 'KILN_CACHE_KEEP_DURATION');
  return { keepStorage, until: Date.now() - duration };
}

/** `512m`, `5g`, `1024` (bytes): binary multiples, as docker's sizes. */
export function parseSize(text: string, name: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*([bkmgt]?)i?b?$/i.exec(text.trim());
  if (match === null) throw new Error(`${name}: ${JSON.stringify(text)} is not a size (e.g. 512m, 5g)`);
  const unit = { '': 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 }[match[2]!.toLowerCase() as '' | 'b' | 'k' | 'm' | 'g' | 't'];
  return Math.floor(Number(match[1]) * unit);
}

/** `90m`, `72h`, `7d`, `30s`. */
export function parseDuration(text: string, name: string): number {
  const match = /^(\d+(?:\.\d+)?)(s|m|h|d)$/.exec(text.trim());
  if (match === null) throw new Error(`${name}: ${JSON.stringify(text)} is not a duration (e.g. 90m, 72h, 7d)`);
  return Number(match[1]) * { s: 1000, m: 60_000, h: 3600_000, d: 86_400_000 }[match[2] as 's' | 'm' | 'h' | 'd'];
}
