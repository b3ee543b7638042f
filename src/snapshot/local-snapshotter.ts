import { randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { ContentStore } from '../content/index.ts';
import { ConflictError, IntegrityError, UsageError } from '../errors/index.ts';
import { layerCompression } from '../image/index.ts';
import { decompressLayer, sniffCompression, type LayerEntry } from '../image/layer/index.ts';
import { chainIds, type ChainId } from './chain-id.ts';
import { SnapshotRecords, type SnapshotRecord } from './snapshot-records.ts';
import type {
  DiffOptions,
  LayerDiff,
  Mount,
  PrepareOptions,
  SnapshotInfo,
  Snapshotter,
  UnpackLayer,
  UnpackOptions,
  UnpackResult,
} from './snapshotter.ts';
import { writeDiff } from './write-diff.ts';

/** Options of a layer application ({@link LocalSnapshotter.applyLayer}). */
export interface ApplyOptions {
  readonly signal?: AbortSignal;
  readonly name: string;
}

/**
 * The lifecycle every snapshotter kept on local disk shares: names, kinds and parents
 * (through {@link SnapshotRecords}), commit, remove, diff into the content store, and unpack
 * by ChainID. Implementations say how a snapshot's files are laid out, mounted, compared and
 * written into.
 */
export abstract class LocalSnapshotter implements Snapshotter {
  abstract readonly kind: 'overlay' | 'copy';
  protected readonly records: SnapshotRecords;
  protected readonly content: ContentStore;

  protected constructor(records: SnapshotRecords, content: ContentStore) {
    this.records = records;
    this.content = content;
  }

  async stat(key: string): Promise<SnapshotInfo> {
    return SnapshotRecords.info(await this.records.get(key));
  }

  async list(): Promise<SnapshotInfo[]> {
    return (await this.records.list()).map((record) => SnapshotRecords.info(record));
  }

  async prepare(key: string, parent?: string, options: PrepareOptions = {}): Promise<Mount[]> {
    return this.mountsOf(await this.#create('active', key, parent, options.signal), options.signal);
  }

  async view(key: string, parent?: string, options: PrepareOptions = {}): Promise<Mount[]> {
    return this.mountsOf(await this.#create('view', key, parent, options.signal), options.signal);
  }

  async mounts(key: string): Promise<Mount[]> {
    const record = await this.records.get(key);
    if (record.kind === 'committed') {
      throw new ConflictError(`snapshot ${JSON.stringify(key)} is committed: it has no mounts of its own`, {
        hint: 'prepare or view a snapshot on it',
      });
    }
    return this.mountsOf(record);
  }

  async commit(name: string, key: string): Promise<void> {
    await this.records.commit(name, key);
  }

  async remove(key: string): Promise<void> {
    await this.records.remove(key);
  }

  async diff(parent: string | undefined, key: string, options: DiffOptions = {}): Promise<LayerDiff> {
    const record = await this.records.get(key);
    if (record.parent !== parent) {
      throw new UsageError(
        `snapshot ${JSON.stringify(key)} descends from ${record.parent === undefined ? 'the empty directory' : JSON.stringify(record.parent)}, not ${parent === undefined ? 'the empty directory' : JSON.stringify(parent)}`,
        { hint: 'a snapshot is diffed against its own parent' },
      );
    }
    return writeDiff(await this.changes(record, options.signal), this.content, options);
  }

  async unpack(layers: readonly UnpackLayer[], options: UnpackOptions = {}): Promise<UnpackResult> {
    const ids = chainIds(layers.map((layer) => layer.diffId));
    // The longest prefix already unpacked, looked for from the top: a committed snapshot's
    // ancestors are committed too (a parent is never removed before its children), so a
    // stack that exists costs one lookup, not one per layer.
    let have = layers.length;
    for (; have > 0; have--) {
      const chainId = ids[have - 1]!;
      const existing = await this.records.lookup(chainId);
      if (existing === undefined) continue;
      if (existing.kind !== 'committed') {
        throw new ConflictError(`snapshot ${JSON.stringify(chainId)} exists but is not committed`, {
          hint: 'a ChainID names the committed snapshot of its layers; remove the snapshot using that key',
        });
      }
      break;
    }
    let parent: ChainId | undefined = have === 0 ? undefined : ids[have - 1];
    for (let index = have; index < layers.length; index++) {
      options.signal?.throwIfAborted();
      const chainId = ids[index]!;
      await this.#unpackLayer(layers[index]!, chainId, parent, options.signal);
      parent = chainId;
    }
    return { chainId: ids[ids.length - 1], chainIds: ids, applied: layers.length - have };
  }

  /** Makes the files of a new snapshot in `dir` (before it is renamed into place); returns record extras. */
  protected abstract populate(
    dir: string,
    kind: 'active' | 'view',
    parent: SnapshotRecord | undefined,
    signal: AbortSignal | undefined,
  ): Promise<Readonly<Record<string, string>> | undefined>;

  /** The mounts of an active snapshot or view. */
  protected abstract mountsOf(record: SnapshotRecord, signal?: AbortSignal): Promise<Mount[]>;

  /**
   * The changes of a snapshot against its parent, as layer entries in layer order: best a
   * synchronous iterable, which the tar writer pulls without a promise per entry.
   */
  protected abstract changes(record: SnapshotRecord, signal: AbortSignal | undefined): Promise<Iterable<LayerEntry> | AsyncIterable<LayerEntry>>;

  /** Applies an uncompressed layer tar to the active snapshot `record`, destroying `tar` when done. */
  protected abstract applyLayer(record: SnapshotRecord, tar: Readable, options: ApplyOptions): Promise<void>;

  async #create(kind: 'active' | 'view', key: string, parent: string | undefined, signal: AbortSignal | undefined): Promise<SnapshotRecord> {
    signal?.throwIfAborted();
    const parentRecord = parent === undefined ? undefined : await this.records.get(parent);
    if (parentRecord !== undefined && parentRecord.kind !== 'committed') {
      throw new ConflictError(`snapshot ${JSON.stringify(parent)} is ${parentRecord.kind === 'view' ? 'a view' : 'active'}: only a committed snapshot can be a parent`, {
        hint: 'commit it first',
      });
    }
    return this.records.create({ kind, name: key, ...(parentRecord === undefined ? {} : { parent: parentRecord }) }, (dir) =>
      this.populate(dir, kind, parentRecord, signal),
    );
  }

  /** Applies one layer on `parent` into a snapshot committed as `chainId`; a concurrent twin wins quietly. */
  async #unpackLayer(layer: UnpackLayer, chainId: ChainId, parent: ChainId | undefined, signal: AbortSignal | undefined): Promise<void> {
    const key = `kiln.unpack/${randomBytes(8).toString('hex')}`;
    const record = await this.#create('active', key, parent, signal);
    try {
      const digest = layer.descriptor.digest;
      let blob: Readable = this.content.open(digest);
      let compression = layerCompression(layer.descriptor.mediaType);
      if (compression === undefined) {
        const sniffed = await sniffCompression(blob, signal === undefined ? {} : { signal });
        compression = sniffed.compression;
        blob = sniffed.stream;
      }
      const decompressed = decompressLayer(blob, compression, { ...(signal === undefined ? {} : { signal }), name: digest });
      await this.applyLayer(record, decompressed.tar, { ...(signal === undefined ? {} : { signal }), name: digest });
      const { diffId } = await decompressed.done;
      if (diffId !== layer.diffId) {
        throw new IntegrityError(`layer ${digest} unpacks to DiffID ${diffId}, not ${layer.diffId}`, {
          hint: 'the image config does not match its layers; pull or build the image again',
        });
      }
      try {
        await this.records.commit(chainId, key);
      } catch (error) {
        // Another unpack of the same layers committed it first: theirs is as good.
        if (error instanceof ConflictError && (await this.records.lookup(chainId))?.kind === 'committed') return;
        throw error;
      }
    } finally {
      if ((await this.records.lookup(key)) !== undefined) await this.records.remove(key);
    }
  }
}
