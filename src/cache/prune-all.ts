import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { chainIds, openSnapshotter, type Snapshotter } from '../snapshot/index.ts';
import { pruneImages, readImageConfig, type ImageStore, type PruneResult } from '../store/index.ts';
import { CacheRecords } from './cache-records.ts';
import { pruneBuildCache, type CachePrunePolicy } from './prune-cache.ts';

/** Options of {@link pruneAll}: `kiln prune`'s flags. */
export interface PruneAllOptions {
  /** Every earlier tag version and every build-cache record stop being roots. */
  readonly all?: boolean;
  /** Only what was recorded, versioned or last used before this time (ms since the epoch). */
  readonly until?: number;
  /** The build cache is trimmed, least recently used first, to at most this many bytes of its own. */
  readonly keepStorage?: number;
  /** Also empties the cache mounts (`RUN --mount=type=cache`), with `--cache`. */
  readonly cacheMounts?: boolean;
}

/** What {@link pruneAll} removed. */
export interface PruneAllResult extends PruneResult {
  readonly cacheRecords: number;
  readonly snapshots: number;
  /** Cache mounts removed. */
  readonly cacheMounts: number;
}

/**
 * `kiln prune`: mark-and-sweep of images and blobs from the roots (tag versions, cache
 * records), then build-cache records as the options say (none without them: the cache is a
 * root) and the blobs they alone kept, then the unpacked snapshots that no remaining image
 * or cache record needs.
 */
export async function pruneAll(store: ImageStore, options: PruneAllOptions): Promise<PruneAllResult> {
  const records = await CacheRecords.open(store.root);
  const policy: CachePrunePolicy = {
    ...(options.all === true ? { all: true } : {}),
    ...(options.until === undefined ? {} : { until: options.until }),
    ...(options.keepStorage === undefined ? {} : { keepStorage: options.keepStorage }),
  };
  // Images first, so the cache is measured against the images that remain: a layer only a
  // dangling image shared with the cache is the cache's own once that image is gone.
  const images = await pruneImages(store, {
    ...(options.all === true ? { all: true } : {}),
    ...(options.until === undefined ? {} : { until: options.until }),
  });
  let cacheRecords = 0;
  let swept = { blobs: 0, bytes: 0 };
  if (policy.all === true || policy.until !== undefined || policy.keepStorage !== undefined) {
    cacheRecords = (await pruneBuildCache(records, policy, await store.imageBlobs())).records;
    if (cacheRecords > 0) swept = await store.sweep();
  }
  const snapshots = await pruneSnapshots(store, records);
  let cacheMounts = 0;
  if (options.cacheMounts === true) {
    const dir = join(store.root, 'cache', 'mounts');
    for (const name of await readdir(dir).catch(() => [] as string[])) {
      await rm(join(dir, name), { recursive: true, force: true });
      cacheMounts++;
    }
  }
  return { ...images, blobs: images.blobs + swept.blobs, bytes: images.bytes + swept.bytes, cacheRecords, snapshots, cacheMounts };
}

/**
 * Removes committed snapshots that no image and no cache record has as a layer stack (they
 * can be unpacked again from blobs), leaves first; one in use by a running build (the parent
 * of an active snapshot) is kept.
 */
async function pruneSnapshots(store: ImageStore, records: CacheRecords): Promise<number> {
  const snapshotter: Snapshotter = await openSnapshotter({ root: store.root, content: store.content });
  const keep = new Set<string>();
  for await (const { record } of records.list()) for (const id of chainIds(record.layers.map((l) => l.diffId))) keep.add(id);
  for (const image of await store.images()) {
    const config = await readImageConfig(store.content, image).catch(() => undefined);
    if (config !== undefined) for (const id of chainIds(config.rootfs.diff_ids)) keep.add(id);
  }
  let removed = 0;
  for (;;) {
    const all = await snapshotter.list();
    const parents = new Set(all.map((s) => s.parent).filter((p) => p !== undefined));
    const leaves = all.filter((s) => s.kind === 'committed' && !keep.has(s.name) && !parents.has(s.name));
    if (leaves.length === 0) return removed;
    let progressed = false;
    for (const leaf of leaves) {
      try {
        await snapshotter.remove(leaf.name);
        removed++;
        progressed = true;
      } catch {
        // Taken as a parent meanwhile, or removed by another process: left alone.
      }
    }
    if (!progressed) return removed;
  }
}
