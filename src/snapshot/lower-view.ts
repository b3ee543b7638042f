import { lstatSync, type BigIntStats } from 'node:fs';
import { join } from 'node:path';
import { lgetxattr } from '../native/index.ts';

/** What {@link LowerView.lookup} finds: the entry and the layer directory holding it. */
export interface LowerEntry {
  readonly stats: BigIntStats;
  /** The layer directory it is in; the file is `join(layer, path)`. */
  readonly layer: string;
}

/** A whiteout as overlayfs writes it into an upper directory: a character device 0:0 (overlayfs(5)). */
export function isWhiteout(stats: BigIntStats): boolean {
  return stats.isCharacterDevice() && stats.rdev === 0n;
}

/** The attribute overlayfs marks an opaque directory with (overlayfs(5)). */
export const OPAQUE_XATTR = 'trusted.overlay.opaque';

/** Whether the directory `path` is opaque: `trusted.overlay.opaque` is `y` (overlayfs(5)). */
export function isOpaque(path: string): boolean {
  try {
    return isOpaqueMark(lgetxattr(path, OPAQUE_XATTR));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENODATA' || code === 'ENOTSUP' || code === 'ENOENT') return false;
    throw error;
  }
}

/** Whether a value of {@link OPAQUE_XATTR} (undefined: absent) marks the directory opaque. */
export function isOpaqueMark(value: Buffer | undefined): boolean {
  return value !== undefined && value.length === 1 && value[0] === 0x79;
}

/**
 * The merged tree of a stack of overlay layer directories, as overlayfs would show it mounted
 * read-only, looked up path by path without mounting: a name is taken from the topmost layer
 * holding it, a whiteout hides it in the layers below, an opaque directory or a non-directory
 * hides everything below it in the layers below (overlayfs(5) "Directories", "whiteouts and
 * opaque directories"). The layers never change while a view exists: what each directory
 * merges from, and each lookup, is cached (memory grows with the paths looked up).
 */
export class LowerView {
  readonly #layers: readonly string[];
  /** For a merged directory, the indices of the layers it merges, topmost first; undefined when it is no directory. */
  readonly #dirs = new Map<string, readonly number[] | undefined>();
  /** What {@link lookup} found, by path: a missed name costs an lstat(2) per layer, once. */
  readonly #found = new Map<string, LowerEntry | undefined>();

  /** `layers` topmost first, as overlayfs's lowerdir lists them. */
  constructor(layers: readonly string[]) {
    this.#layers = layers;
    this.#dirs.set(
      '',
      layers.map((_, index) => index),
    );
  }

  /** True when the view has no layers at all (a snapshot on the empty directory). */
  get empty(): boolean {
    return this.#layers.length === 0;
  }

  /** The entry visible at `path` (layer-relative, clean; not followed), or undefined. */
  lookup(path: string): LowerEntry | undefined {
    if (this.#found.has(path)) return this.#found.get(path);
    const found = this.#find(path);
    this.#found.set(path, found);
    return found;
  }

  #find(path: string): LowerEntry | undefined {
    if (path === '') {
      const top = this.#layers[0];
      return top === undefined ? undefined : { stats: lstatSync(top, { bigint: true }), layer: top };
    }
    const slash = path.lastIndexOf('/');
    const merged = this.#merged(slash < 0 ? '' : path.slice(0, slash));
    if (merged === undefined) return undefined;
    for (const index of merged) {
      const layer = this.#layers[index]!;
      const stats = lstatSync(join(layer, path), { bigint: true, throwIfNoEntry: false });
      if (stats === undefined) continue;
      return isWhiteout(stats) ? undefined : { stats, layer };
    }
    return undefined;
  }

  /** Whether `path` is a directory in the view. */
  isDirectory(path: string): boolean {
    return this.#merged(path) !== undefined;
  }

  #merged(dir: string): readonly number[] | undefined {
    if (this.#dirs.has(dir)) return this.#dirs.get(dir);
    const slash = dir.lastIndexOf('/');
    const parent = this.#merged(slash < 0 ? '' : dir.slice(0, slash));
    let layers: number[] | undefined;
    for (const index of parent ?? []) {
      const absolute = join(this.#layers[index]!, dir);
      const stats = lstatSync(absolute, { bigint: true, throwIfNoEntry: false });
      if (stats === undefined) continue;
      // The topmost entry decides: a whiteout or non-directory hides the layers below.
      if (!stats.isDirectory()) break;
      (layers ??= []).push(index);
      if (isOpaque(absolute)) break;
    }
    this.#dirs.set(dir, layers);
    return layers;
  }
}
