import { chmodSync, chownSync, existsSync, lstatSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { release } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import type { ContentStore } from '../content/index.ts';
import { UsageError } from '../errors/index.ts';
import type { LayerEntry } from '../image/layer/index.ts';
import { copyTree, mergeLayer } from './copy-tree.ts';
import { LocalSnapshotter, type ApplyOptions } from './local-snapshotter.ts';
import { LowerView } from './lower-view.ts';
import { applyOverlayLayer } from './overlay-apply.ts';
import { overlayChanges } from './overlay-changes.ts';
import { SnapshotRecords, type SnapshotRecord } from './snapshot-records.ts';
import type { Mount } from './snapshotter.ts';

/** Options of {@link openOverlaySnapshotter}. */
export interface OverlaySnapshotterOptions {
  /** kiln's root: snapshots live in `<root>/snapshots/`. */
  readonly root: string;
  /** Where {@link OverlaySnapshotter.diff} writes layers and {@link OverlaySnapshotter.unpack} reads them. */
  readonly content: ContentStore;
  /**
   * The longest mount option string (all options joined by commas) a mount may have. mount(2)
   * copies at most one page of options (4096 bytes with the NUL); the default leaves 128 bytes
   * of it for options the sandbox adds (`userxattr`, id maps).
   */
  readonly optionsBudget?: number;
}

/** One page: what mount(2) copies of the options string, its NUL included. */
const PAGE = 4096;
const DEFAULT_BUDGET = PAGE - 1 - 128;

/**
 * Options that keep the upper directory a plain changeset, each passed only when this kernel
 * knows it (its module parameter exists), as containerd passes `index=off`: no inode index,
 * no metadata-only copy-up (a chmod must copy the data up, or the diff would find an empty
 * file), no redirects (a renamed lower directory is copied, not recorded as a redirect the
 * diff cannot read).
 */
const FEATURES = ['index=off', 'metacopy=off', 'redirect_dir=off'] as const;

/**
 * Whether overlayfs here takes `volatile` (Linux 5.10): no sync of the upper file system at
 * unmount. That sync (sync_filesystem) writes back every dirty page of the whole file system,
 * other programs' too, so a step that copied a few files could wait seconds on a busy disk.
 * Snapshots are a cache of fsynced layer blobs; what volatile risks, a kernel crash, their
 * records' boot stamp covers (src/snapshot/snapshot-records.ts).
 */
function volatileSupported(): boolean {
  const [major = 0, minor = 0] = release().split('.').map((part) => Number.parseInt(part, 10));
  return major > 5 || (major === 5 && minor >= 10);
}

/** Whether this kernel has overlayfs (loaded, or listed as a file system). */
export function overlaySupported(): boolean {
  if (existsSync('/sys/module/overlay')) return true;
  try {
    return /\toverlay$/m.test(readFileSync('/proc/filesystems', 'utf8'));
  } catch {
    return false;
  }
}

/**
 * Opens the overlay snapshotter at `<root>/snapshots/`, removing what dead processes left there.
 * Check {@link overlaySupported} first to choose the copy snapshotter on kernels without it.
 */
export async function openOverlaySnapshotter(options: OverlaySnapshotterOptions): Promise<OverlaySnapshotter> {
  const records = await SnapshotRecords.open(join(options.root, 'snapshots'));
  const features = FEATURES.filter((option) => existsSync(`/sys/module/overlay/parameters/${option.slice(0, option.indexOf('='))}`));
  return new OverlaySnapshotter(records, options.content, options.optionsBudget ?? DEFAULT_BUDGET, features, volatileSupported());
}

/**
 * Snapshots as overlayfs layers (containerd's overlay snapshotter): each snapshot is a
 * directory `<id>/fs` holding its changes only — an active snapshot's upper directory, with
 * `<id>/work` as overlayfs's work directory (four empty directories once unmounted, left
 * until the snapshot is removed: their rmdirs, 0.1-0.2 ms each on this machine's disk, were
 * half of a cold build's, on every step's commit) — and its mounts stack its ancestors'
 * directories as lower layers. Commit renames nothing and copies nothing: the upper directory becomes a
 * lower one. A snapshot on nothing mounts as a bind mount of its directory; a view on one
 * layer as a read-only bind mount of that layer.
 *
 * Deep stacks: overlayfs takes its layers as one `lowerdir=a:b:…` option, and mount(2) takes
 * at most a page of options. Ids are short numbers under a short root (about 31 bytes a layer
 * under /var/lib/kiln, so some 120 layers fit). When the layers do not fit, the bottom of the
 * stack is flattened: the merged tree of the ancestor at a depth that is a multiple of a power
 * of two B (the most that fit, less one) is copied once into `<id>/flat` of that committed
 * snapshot and stands for all its layers, with at most B − 1 layers above it. Children
 * prepared on the same deep image, and on its descendants up to the next multiple of B, share
 * that flattened tree; building it starts from the nearest flattened ancestor. It is removed
 * with its snapshot.
 */
export class OverlaySnapshotter extends LocalSnapshotter {
  readonly kind = 'overlay';
  readonly #budget: number;
  readonly #features: readonly string[];
  readonly #volatile: boolean;

  /** @internal Use {@link openOverlaySnapshotter}. */
  constructor(records: SnapshotRecords, content: ContentStore, budget: number, features: readonly string[], volatile: boolean) {
    super(records, content);
    this.#budget = budget;
    this.#features = features;
    this.#volatile = volatile;
  }

  protected async populate(dir: string, kind: 'active' | 'view', parent: SnapshotRecord | undefined): Promise<undefined> {
    // Two directories: synchronous calls, a tenth of a thread-pool round trip each.
    const fs = join(dir, 'fs');
    mkdirSync(fs, { mode: 0o755 });
    if (parent !== undefined) {
      // The upper directory's root is the merged root: it keeps the parent's owner and mode,
      // as containerd's overlay snapshotter copies them.
      const root = lstatSync(this.#fs(parent.id));
      chownSync(fs, root.uid, root.gid);
      chmodSync(fs, root.mode & 0o7777);
    }
    if (kind === 'active') mkdirSync(join(dir, 'work'), { mode: 0o700 });
    return undefined;
  }

  protected async mountsOf(record: SnapshotRecord, signal?: AbortSignal): Promise<Mount[]> {
    const own = this.#fs(record.id);
    const active = record.kind === 'active';
    if (record.parents.length === 0) return [bind(own, active)];
    if (!active && record.parents.length === 1) return [bind(this.#fs(record.parents[0]!), false)];
    const work = join(this.records.dir(record.id), 'work');
    // A volatile mount leaves work/work/incompat/volatile, which fails the next mount of the
    // same directories: mounted again, the snapshot has nothing in flight (it was unmounted).
    if (active && this.#volatile) rmSync(join(work, 'work', 'incompat'), { recursive: true, force: true });
    const fixed = active ? [`workdir=${work}`, `upperdir=${own}`, ...(this.#volatile ? ['volatile'] : [])] : [];
    const lowers = await this.#lowerDirs(record.parents, fixed, signal);
    if (!active && lowers.length === 1) return [bind(lowers[0]!, false)];
    return [{ type: 'overlay', source: 'overlay', options: this.#options(fixed, lowers) }];
  }

  protected async changes(record: SnapshotRecord, signal: AbortSignal | undefined): Promise<Iterable<LayerEntry>> {
    return overlayChanges(this.#fs(record.id), this.#lowerView(record), signal);
  }

  protected async applyLayer(record: SnapshotRecord, tar: Readable, options: ApplyOptions): Promise<void> {
    await applyOverlayLayer(this.#fs(record.id), this.#lowerView(record), tar, options);
  }

  #fs(id: string): string {
    return join(this.records.dir(id), 'fs');
  }

  #flat(id: string): string {
    return join(this.records.dir(id), 'flat');
  }

  #lowerView(record: SnapshotRecord): LowerView {
    return new LowerView(record.parents.map((id) => this.#fs(id)));
  }

  #options(fixed: readonly string[], lowers: readonly string[]): string[] {
    return [...fixed, `lowerdir=${lowers.join(':')}`, ...this.#features];
  }

  #fits(fixed: readonly string[], lowers: readonly string[]): boolean {
    return this.#options(fixed, lowers).join(',').length <= this.#budget;
  }

  /** The lower directories of a snapshot with these ancestors, flattening the bottom of a deep stack. */
  async #lowerDirs(parents: readonly string[], fixed: readonly string[], signal: AbortSignal | undefined): Promise<string[]> {
    const dirs = parents.map((id) => this.#fs(id));
    if (this.#fits(fixed, dirs)) return dirs;
    const longest = Math.max(...parents.map((id) => this.#flat(id).length)) + 1;
    const room = this.#budget - this.#options(fixed, []).join(',').length;
    const fit = Math.floor(room / longest);
    for (let block = 2 ** Math.floor(Math.log2(Math.max(1, fit - 1))); block >= 1; block /= 2) {
      // parents[i] is at depth n − i: the ancestor at the deepest multiple of `block` is flattened.
      const index = parents.length - Math.floor(parents.length / block) * block;
      const lowers = [...dirs.slice(0, index), this.#flat(parents[index]!)];
      if (!this.#fits(fixed, lowers)) continue;
      await this.#flatten(parents.slice(index), signal);
      return lowers;
    }
    throw new UsageError(`the snapshot directory ${this.records.root} is too long a path for an overlay mount`, {
      hint: 'use a shorter kiln root (--root)',
    });
  }

  /** Makes `<id>/flat` of `chain[0]`, whose ancestors are the rest of `chain`, unless it exists. */
  async #flatten(chain: readonly string[], signal: AbortSignal | undefined): Promise<void> {
    const target = this.#flat(chain[0]!);
    if (existsSync(target)) return;
    let start = chain.length;
    let base: string | undefined;
    for (let j = 1; j < chain.length; j++) {
      if (existsSync(this.#flat(chain[j]!))) {
        base = this.#flat(chain[j]!);
        start = j;
        break;
      }
    }
    const tmp = await this.records.temporary();
    try {
      const tree = join(tmp, 'flat');
      if (base === undefined) await mkdir(tree);
      else await copyTree(base, tree, signal === undefined ? {} : { signal });
      for (let j = start - 1; j >= 0; j--) await mergeLayer(this.#fs(chain[j]!), tree, signal === undefined ? {} : { signal });
      await rename(tree, target).catch((error: NodeJS.ErrnoException) => {
        // Another process flattened it first.
        if (error.code !== 'ENOTEMPTY' && error.code !== 'EEXIST') throw error;
      });
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  }
}

function bind(source: string, writable: boolean): Mount {
  return { type: 'bind', source, options: ['rbind', writable ? 'rw' : 'ro'] };
}

