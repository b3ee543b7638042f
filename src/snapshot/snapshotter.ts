import type { Descriptor, DiffId, ImageFormat } from '../image/index.ts';
import type { WritableCompression } from '../image/layer/index.ts';
import type { ChainId } from './chain-id.ts';

/**
 * A mount for someone else to perform: the sandbox, in its own mount namespace (mount(8)'s
 * `-t type`, the source, and `-o options` joined by commas). A snapshotter only describes
 * mounts; it never mounts anything into kiln's namespace.
 *
 * - `{type: 'overlay', source: 'overlay', options: ['lowerdir=A:B', 'upperdir=U', 'workdir=W', …]}`:
 *   lower directories nearest parent first, as overlayfs(5) lists them (topmost first).
 * - `{type: 'bind', source: dir, options: ['rbind', 'rw' | 'ro']}`: `dir` itself.
 */
export interface Mount {
  readonly type: 'overlay' | 'bind';
  readonly source: string;
  readonly options: readonly string[];
}

/**
 * `active`: made by {@link Snapshotter.prepare}, writable through its mounts, may be committed.
 * `view`: made by {@link Snapshotter.view}, read-only, never committed.
 * `committed`: made by {@link Snapshotter.commit} (or {@link Snapshotter.unpack}); immutable,
 * the only kind that can be a parent.
 */
export type SnapshotKind = 'active' | 'view' | 'committed';

/** What {@link Snapshotter.stat} says of a snapshot. */
export interface SnapshotInfo {
  readonly kind: SnapshotKind;
  /** The key of an active snapshot or view, the name of a committed one. */
  readonly name: string;
  /** The committed snapshot it descends from; undefined for one on the empty directory. */
  readonly parent: string | undefined;
  /** When it was created (committed: when the active snapshot it came from was prepared), ISO 8601. */
  readonly created: string;
}

/** Options of {@link Snapshotter.diff}. */
export interface DiffOptions {
  /** Compression of the blob; gzip when absent (what BuildKit and docker write). */
  readonly compression?: WritableCompression;
  /** Media types of the descriptor: OCI (default) or Docker schema 2. */
  readonly format?: ImageFormat;
  /** SOURCE_DATE_EPOCH, in seconds; with `rewriteTimestamp`, clamps later mtimes to it. */
  readonly sourceDateEpoch?: number;
  readonly rewriteTimestamp?: boolean;
  readonly signal?: AbortSignal;
}

/** A layer {@link Snapshotter.diff} wrote into the content store. */
export interface LayerDiff {
  /** The blob: media type for its compression, digest and size of the compressed bytes. */
  readonly descriptor: Descriptor;
  /** sha256 of the uncompressed tar: the config's rootfs.diff_ids entry. */
  readonly diffId: DiffId;
  /** Length of the uncompressed tar in bytes (what `docker history` shows as SIZE). */
  readonly size: number;
}

/** One layer of an image to unpack: its blob in the content store and its DiffID. */
export interface UnpackLayer {
  readonly descriptor: Descriptor;
  readonly diffId: DiffId;
}

/** Options of {@link Snapshotter.unpack}. */
export interface UnpackOptions {
  readonly signal?: AbortSignal;
}

/** What {@link Snapshotter.unpack} did. */
export interface UnpackResult {
  /**
   * The chain ID of the whole stack: the name of its top committed snapshot, the parent to
   * prepare on; undefined for no layers (the empty directory).
   */
  readonly chainId: ChainId | undefined;
  /** Chain IDs of every prefix of the stack, bottom first; each names a committed snapshot. */
  readonly chainIds: readonly ChainId[];
  /** How many layers this call applied; the others were unpacked already and are shared. */
  readonly applied: number;
}

/** Options of {@link Snapshotter.prepare} and {@link Snapshotter.view}. */
export interface PrepareOptions {
  readonly signal?: AbortSignal;
}

/**
 * Allocates, stacks and diffs file-system snapshots, after containerd's
 * core/snapshots/snapshotter.go, whose vocabulary it keeps: a `key` names an active snapshot
 * or a view, a `name` a committed one, `parent` the committed snapshot another descends from;
 * keys and names share one space.
 *
 * Snapshots are best understood by their lifecycle. {@link prepare} makes an active snapshot
 * whose mounts show its parent's tree and capture every change made through them;
 * {@link commit} turns it into a committed snapshot under a name, without copying, which can
 * then be the parent of others; {@link view} makes a read-only one; {@link remove} discards any
 * of them. A committed snapshot never changes again, and an active one never becomes a parent.
 *
 * The RUN flow: `prepare(key, parentName)` → the sandbox mounts the returned {@link Mount}s in
 * its own mount namespace and runs the command → it unmounts → `diff(parentName, key)` writes the
 * changes as an OCI layer into the content store → `commit(name, key)` (or `remove(key)`).
 * Images come in through {@link unpack}, which names each layer's committed snapshot by its
 * ChainID, so a stack of layers shared by several images is unpacked once.
 *
 * On disk under `<root>/snapshots/` (DESIGN.md "On disk"). Active snapshots and views are owned
 * by the process that made them (src/owner): a snapshotter opened later removes those whose
 * process is gone; committed ones stay until removed. Every creation is built in a temporary
 * directory and renamed into place, so a crash leaves a snapshot whole or absent.
 *
 * A snapshotter never mounts and never spawns processes. Nothing in it is safe against the
 * caller removing a snapshot that is mounted or that another operation is using: callers
 * (the solver, garbage collection) serialise that.
 */
export interface Snapshotter {
  /** The mechanism: overlayfs layers, or full copies. */
  readonly kind: 'overlay' | 'copy';

  /**
   * The snapshot named `key` (a key or a name).
   * @throws NotFoundError when there is none.
   */
  stat(key: string): Promise<SnapshotInfo>;

  /** Every snapshot, in no particular order. */
  list(): Promise<SnapshotInfo[]>;

  /**
   * Creates the active snapshot `key` on `parent` (a committed snapshot; none for the empty
   * directory) and returns the mounts that show it writable. Changes made through them are
   * the snapshot's; {@link diff} turns them into a layer.
   * @throws ConflictError when `key` is taken or `parent` is not committed; NotFoundError when
   * `parent` does not exist.
   */
  prepare(key: string, parent?: string, options?: PrepareOptions): Promise<Mount[]>;

  /**
   * Like {@link prepare}, but the mounts are read-only and the snapshot cannot be committed;
   * it costs no copy.
   * @throws as {@link prepare}.
   */
  view(key: string, parent?: string, options?: PrepareOptions): Promise<Mount[]>;

  /**
   * The mounts of the active snapshot or view `key` again.
   * @throws NotFoundError; ConflictError for a committed snapshot (it has no mounts of its own).
   */
  mounts(key: string): Promise<Mount[]>;

  /**
   * Turns the active snapshot `key` into the committed snapshot `name`, with the same parent
   * and content; `key` is gone afterwards. Nothing is copied. Unmount it first.
   * @throws NotFoundError; ConflictError when `name` is taken or `key` is not active.
   */
  commit(name: string, key: string): Promise<void>;

  /**
   * Removes the snapshot `key` (any kind) and its files.
   * @throws NotFoundError; ConflictError when it is the parent of another snapshot.
   */
  remove(key: string): Promise<void>;

  /**
   * Writes the changes of `key` (active or committed) against its parent as an OCI layer into
   * the content store: added and changed entries in full (metadata-only changes too), deleted
   * ones as `.wh.<name>` whiteouts (a deleted directory as one), a directory deleted and made
   * again as the directory with a `.wh..wh..opq` marker, hard links as tar hard links, and the
   * parent directories of every change with their metadata; in layer order, so the same tree
   * gives the same bytes. Callers hold a lease (src/store) so the blob outlives collection.
   * @throws NotFoundError; UsageError when `parent` is not the snapshot's parent.
   */
  diff(parent: string | undefined, key: string, options?: DiffOptions): Promise<LayerDiff>;

  /**
   * Unpacks the layers of an image, bottom first, into committed snapshots named by their
   * ChainIDs (image-spec config.md): a prefix already unpacked is reused, each missing layer
   * is read from the content store, decompressed, checked against its DiffID and applied once
   * (src/image/apply's rules).
   * @throws IntegrityError when a layer does not hash to its DiffID (nothing is kept of it);
   * InputError for a hostile or malformed layer; NotFoundError for a missing blob.
   */
  unpack(layers: readonly UnpackLayer[], options?: UnpackOptions): Promise<UnpackResult>;
}
