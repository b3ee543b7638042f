import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Digest } from '../content/index.ts';
import { NotFoundError, IntegrityError } from '../errors/index.ts';
import type { CollectResult, ImageStore } from './image-store.ts';

/** Options of {@link pruneImages}, as `kiln prune` takes them. */
export interface PruneOptions {
  /** Also drop every tag version but the current one (and so the images only they kept). */
  readonly all?: boolean;
  /** Only what was recorded (or versioned) before this time, in ms since the epoch. */
  readonly until?: number;
}

/** What `kiln prune` did. */
export interface PruneResult extends CollectResult {
  readonly versions: number;
}

/**
 * `kiln prune`: mark-and-sweep from the GC roots (every tag version), removing dangling
 * images and the blobs nothing needs; with `all`, earlier versions stop being roots first.
 */
export async function pruneImages(store: ImageStore, options: PruneOptions = {}): Promise<PruneResult> {
  const versions = options.all === true ? await store.trimVersions(options.until) : 0;
  const until = options.until;
  const result = await store.collect(
    until === undefined ? {} : { keep: (record) => Date.parse(record.recorded) >= until },
  );
  return { ...result, versions };
}

/** What `kiln du` shows. */
export interface DiskUsage {
  readonly images: number;
  readonly tags: number;
  readonly versions: number;
  /** Bytes of every blob some image needs. */
  readonly imageBytes: number;
  /** Blobs only the build cache (the store's extra roots) needs, and their bytes. */
  readonly buildCacheBlobs: number;
  readonly buildCacheBytes: number;
  /** Blobs no image needs: what `kiln prune` frees. */
  readonly reclaimableBlobs: number;
  readonly reclaimableBytes: number;
  readonly totalBlobs: number;
  readonly totalBytes: number;
}

/** `kiln du`: what uses the space under the root. */
export async function diskUsage(store: ImageStore): Promise<DiskUsage> {
  const live = await store.liveBlobs();
  const imageBlobs = await store.imageBlobs();
  const tags = await store.tags();
  let imageBytes = 0;
  let buildCacheBlobs = 0;
  let buildCacheBytes = 0;
  let reclaimableBlobs = 0;
  let reclaimableBytes = 0;
  let totalBlobs = 0;
  let totalBytes = 0;
  for await (const blob of store.content.list()) {
    totalBlobs++;
    totalBytes += blob.size;
    if (imageBlobs.has(blob.digest)) imageBytes += blob.size;
    else if (live.has(blob.digest)) {
      buildCacheBlobs++;
      buildCacheBytes += blob.size;
    } else {
      reclaimableBlobs++;
      reclaimableBytes += blob.size;
    }
  }
  return {
    images: (await store.images()).length,
    tags: tags.length,
    versions: tags.reduce((n, t) => n + t.versions.length, 0),
    imageBytes,
    buildCacheBlobs,
    buildCacheBytes,
    reclaimableBlobs,
    reclaimableBytes,
    totalBlobs,
    totalBytes,
  };
}

/** One thing `kiln fsck` found, and what it did about it. */
export interface FsckFinding {
  readonly problem: string;
  /** What was done; undefined when nothing was. */
  readonly repair: string | undefined;
  /** True when the store is still not whole because of it (an image missing blobs). */
  readonly broken: boolean;
}

/**
 * `kiln fsck`: reads every blob through its digest, checks that every image has its blobs
 * and every tag version its image, and repairs what it can: corrupt blobs are deleted
 * (they can only mislead), tag versions of missing images dropped, half-written temporary
 * files removed. Images missing blobs are reported, not removed: loading or importing
 * them again restores them. Unreferenced blobs are reported; `kiln prune` frees them.
 */
export async function fsck(store: ImageStore): Promise<FsckFinding[]> {
  const findings: FsckFinding[] = [];
  await store.locked(async () => {
    for (const dir of ['images/records', 'images/tags']) {
      for (const name of await readdir(join(store.root, dir))) {
        if (!name.endsWith('.tmp')) continue;
        await rm(join(store.root, dir, name), { force: true });
        findings.push({ problem: `half-written record ${dir}/${name}`, repair: 'removed', broken: false });
      }
    }
    for await (const blob of store.content.list()) {
      try {
        // Streamed: a layer may be larger than memory wants to hold.
        for await (const chunk of store.content.open(blob.digest)) void chunk;
      } catch (error) {
        if (!(error instanceof IntegrityError) && !(error instanceof NotFoundError)) throw error;
        await store.content.delete(blob.digest);
        findings.push({ problem: `blob ${blob.digest} does not match its digest`, repair: 'deleted', broken: false });
      }
    }
  });
  const records = await store.images();
  const ids = new Set(records.map((r) => r.id));
  for (const record of records) {
    const missing: string[] = [];
    for (const digest of await store.blobsOf(record).catch(() => new Set([record.config.digest]))) {
      if ((await store.content.info(digest as Digest)) === undefined) missing.push(digest);
    }
    if (missing.length > 0) {
      findings.push({
        problem: `image ${record.id} is missing ${missing.length} blob(s): ${missing.join(', ')}`,
        repair: undefined,
        broken: true,
      });
    }
  }
  for (const tag of await store.tags()) {
    const kept = tag.versions.filter((v) => ids.has(v.id));
    if (kept.length === tag.versions.length) continue;
    await store.replaceTag({ ...tag, versions: kept });
    findings.push({
      problem: `tag ${tag.name} has ${tag.versions.length - kept.length} version(s) whose image is gone`,
      repair: kept.length === 0 ? 'tag removed' : 'versions dropped',
      broken: false,
    });
  }
  const usage = await diskUsage(store);
  if (usage.reclaimableBlobs > 0) {
    findings.push({
      problem: `${usage.reclaimableBlobs} blob(s), ${usage.reclaimableBytes} bytes, belong to no image (kiln prune frees them)`,
      repair: undefined,
      broken: false,
    });
  }
  return findings;
}
