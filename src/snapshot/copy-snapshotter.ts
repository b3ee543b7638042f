import { lstatSync, rmSync, writeFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ContentStore } from '../content/index.ts';
import { applyLayer } from '../image/apply/index.ts';
import type { LayerEntry } from '../image/layer/index.ts';
import { copyTree } from './copy-tree.ts';
import { LocalSnapshotter, type ApplyOptions } from './local-snapshotter.ts';
import { SnapshotRecords, type SnapshotRecord } from './snapshot-records.ts';
import type { Mount } from './snapshotter.ts';
import { treeChanges } from './tree-diff.ts';

/** Options of {@link openCopySnapshotter}. */
export interface CopySnapshotterOptions {
  /** kiln's root: snapshots live in `<root>/snapshots/`. */
  readonly root: string;
  readonly content: ContentStore;
}

/** The record extra holding the birth time (ns) from which a directory was made after the copy. */
const BORN_AFTER = 'bornAfterNs';

/**
 * Opens the copy snapshotter at `<root>/snapshots/`, removing what dead processes left there.
 * Do not open both snapshotters on one root: each takes the other's snapshots for its own.
 */
export async function openCopySnapshotter(options: CopySnapshotterOptions): Promise<CopySnapshotter> {
  return new CopySnapshotter(await SnapshotRecords.open(join(options.root, 'snapshots')), options.content);
}

/**
 * Snapshots as full copies (containerd's native snapshotter), for kernels or file systems
 * without overlayfs: preparing copies the parent's tree into `<id>/fs` (`cp -a`: owners,
 * modes, times, symlinks, hard links, devices, extended attributes), mounted as a bind mount;
 * a view is a read-only bind mount of the parent's tree and costs no copy. Diff compares the
 * tree with its parent's and writes the same entries the overlay snapshotter writes for the
 * same changes: see {@link treeChanges}. Costs a copy of the tree per prepare, and per layer
 * unpacked.
 */
export class CopySnapshotter extends LocalSnapshotter {
  readonly kind = 'copy';

  /** @internal Use {@link openCopySnapshotter}. */
  constructor(records: SnapshotRecords, content: ContentStore) {
    super(records, content);
  }

  protected async populate(
    dir: string,
    kind: 'active' | 'view',
    parent: SnapshotRecord | undefined,
    signal: AbortSignal | undefined,
  ): Promise<Readonly<Record<string, string>> | undefined> {
    const fs = join(dir, 'fs');
    if (kind === 'view' || parent === undefined) {
      await mkdir(fs, { mode: 0o755 });
      return undefined;
    }
    await copyTree(this.#fs(parent.id), fs, signal === undefined ? {} : { signal });
    return { [BORN_AFTER]: String(await birthAfter(dir)) };
  }

  protected async mountsOf(record: SnapshotRecord): Promise<Mount[]> {
    return [{ type: 'bind', source: this.#tree(record), options: ['rbind', record.kind === 'active' ? 'rw' : 'ro'] }];
  }

  protected changes(record: SnapshotRecord, signal: AbortSignal | undefined): Promise<Iterable<LayerEntry>> {
    const parent = record.parents[0];
    const bornAfter = record.extra?.[BORN_AFTER];
    return treeChanges(parent === undefined ? undefined : this.#fs(parent), this.#tree(record), {
      ...(bornAfter === undefined ? {} : { bornAfterNs: BigInt(bornAfter) }),
      ...(signal === undefined ? {} : { signal }),
    });
  }

  protected async applyLayer(record: SnapshotRecord, tar: Readable, options: ApplyOptions): Promise<void> {
    await applyLayer(this.#fs(record.id), tar, options);
  }

  #fs(id: string): string {
    return join(this.records.dir(id), 'fs');
  }

  /** The tree a snapshot shows: a view's is its parent's. */
  #tree(record: SnapshotRecord): string {
    const parent = record.parents[0];
    return record.kind === 'view' && parent !== undefined ? this.#fs(parent) : this.#fs(record.id);
  }
}

/**
 * A birth time later than that of everything made in `dir` so far, read from the file system's
 * own clock: a file is made and its birth time read, then more until one is born later (the
 * clock is coarse, a tick of a few milliseconds), so that anything born at or after the
 * returned time was made after this call. 0 when the file system keeps no birth times.
 */
async function birthAfter(dir: string): Promise<bigint> {
  const probe = join(dir, 'probe');
  try {
    writeFileSync(probe, '');
    const floor = lstatSync(probe, { bigint: true }).birthtimeNs;
    if (floor === 0n) return 0n;
    for (let attempt = 0; attempt < 1000; attempt++) {
      rmSync(probe);
      writeFileSync(probe, '');
      const born = lstatSync(probe, { bigint: true }).birthtimeNs;
      if (born > floor) return born;
      await sleep(1);
    }
    return 0n;
  } finally {
    rmSync(probe, { force: true });
  }
}
