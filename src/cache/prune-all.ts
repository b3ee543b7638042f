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
}

/** What {@link pruneAll} removed. */
export interface PruneAllResult extends PruneResult {
  readonly cacheRecords: number;
  readonly snapshots: number;
}

/**
 * `kiln prune`: build-cache records as the options say (none without them: the cache is a
 * root), then mark-and-sweep of images and blobs from the roots (tag versions, remaining
 * cache records), then the unpacked snapshots that no remaining image or cache record needs.
 */
export async function pruneAll(store: ImageStore, options: PruneAllOptions): Promise<PruneAllResult> {
  const records = await CacheRecords.open(store.root);
  const policy: CachePrunePolicy = {
    ...(options.all === true ? { all: true } : {}),
    ...(options.until === undefined ? {} : { until: options.until }),
    ...(options.keepStorage === undefined ? {} : { keepStorage: options.keepStorage }),
  };
  const cache =
    policy.all === true || policy.until !== undefined || policy.keepStorage !== undefined
      ? await pruneBuildCache(records, policy, await store.imageBlobs())
      : { records: 0, bytes: 0 };
  const images = await pruneImages(store, {
    ...(options.all === true ? { all: true } : {}),
    ...(options.until === undefined ? {} : { until: options.until }),
  });
  const snapshots = await pruneSnapshots(store, records);
  return { ...images, cacheRecords: cache.records, snapshots };
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
