import { lstat, readdir, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { InputError } from '../../errors/index.ts';

/** The prefix of a whiteout name (image-spec layer.md "Whiteouts"). */
const WHITEOUT_PREFIX = '.wh.';
/** Names under this prefix are whiteout metadata, not whiteouts of files (layer.md). */
const WHITEOUT_META_PREFIX = '.wh..wh.';
/** The opaque marker: the directory holding it hides everything below it in lower layers. */
const OPAQUE_MARKER = '.wh..wh..opq';

/** What a layer entry's name asks for, seen as a possible whiteout. */
export type WhiteoutName =
  | { readonly kind: 'none' }
  /** `.wh.<name>`: remove `<name>` of the lower layers, the marker itself is not created. */
  | { readonly kind: 'whiteout'; readonly name: string }
  /** `.wh..wh..opq`: remove what lower layers hold in the marker's directory. */
  | { readonly kind: 'opaque' }
  /** Any other `.wh..wh.*` name, or anything inside such a directory: AUFS bookkeeping. */
  | { readonly kind: 'meta' };

/**
 * Classifies a cleaned, root-relative entry path. Only the last component makes a whiteout
 * (containerd pkg/archive/tar.go applyNaive looks at the base name, so `.wh.etc/file` is an
 * ordinary file). Entries under a top-level `.wh..wh.*` directory are AUFS metadata and are
 * ignored, as moby/go-archive diff.go UnpackLayer skips them; moby also keeps the files of
 * `.wh..wh.plnk` aside to resolve AUFS-era hard links into it, kiln does not (such a link
 * fails as a missing target).
 *
 * @throws InputError naming the entry for a whiteout of `.`, `..` or the empty name, which
 * would remove the directory holding it (containerd validateWhiteout: errInvalidArchive).
 */
export function parseWhiteoutName(path: string): WhiteoutName {
  if (path.startsWith(WHITEOUT_META_PREFIX) && path !== OPAQUE_MARKER) return { kind: 'meta' };
  const base = path.slice(path.lastIndexOf('/') + 1);
  if (!base.startsWith(WHITEOUT_PREFIX)) return { kind: 'none' };
  if (base === OPAQUE_MARKER) return { kind: 'opaque' };
  if (base.startsWith(WHITEOUT_META_PREFIX)) return { kind: 'meta' };
  const name = base.slice(WHITEOUT_PREFIX.length);
  if (name === '' || name === '.' || name === '..') {
    throw new InputError(`layer entry ${JSON.stringify(path)}: invalid whiteout name ${JSON.stringify(base)}`, {
      hint: 'a whiteout must name an entry of its directory, not the directory itself',
    });
  }
  return { kind: 'whiteout', name };
}

/**
 * The paths one layer application has created, so that whiteouts touch only what came from
 * lower layers: layer.md says whiteouts "MUST only apply to resources in lower/parent layers",
 * and a tar may place an opaque marker before or after its siblings.
 */
export class LayerPaths {
  readonly #written = new Set<string>();
  readonly #ancestors = new Set<string>();
  readonly #root: string;

  constructor(root: string) {
    this.#root = root;
  }

  /** Records an absolute path this layer wrote (its parents count as holding layer content). */
  add(path: string): void {
    this.#written.add(path);
    for (let parent = dirname(path); parent.length > this.#root.length && !this.#ancestors.has(parent); parent = dirname(parent)) {
      this.#ancestors.add(parent);
    }
  }

  /** True when `path` was written by this layer or holds something that was. */
  holdsLayerContent(path: string): boolean {
    return this.#written.has(path) || this.#ancestors.has(path);
  }
}

/**
 * Removes what lower layers hold at the absolute path `path`, keeping what `layer` wrote: a
 * lower entry goes whole (`rm -r`, never following a symlink), a directory this layer also
 * wrote (or wrote into) stays and is cleaned of its lower children the same way. A missing
 * path is not an error: the whiteout hides nothing.
 */
export async function removeFromLower(path: string, layer: LayerPaths): Promise<void> {
  if (!layer.holdsLayerContent(path)) {
    // rm(3) semantics of Node's fs.rm: a symlink is unlinked, not followed.
    await rm(path, { recursive: true, force: true });
    return;
  }
  const stats = await lstat(path).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw error;
  });
  if (stats?.isDirectory() !== true) return;
  await removeLowerChildren(path, layer);
}

/** Applies {@link removeFromLower} to every entry of the directory `dir` (an opaque marker). */
export async function removeLowerChildren(dir: string, layer: LayerPaths): Promise<void> {
  const names = await readdir(dir).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT' || error.code === 'ENOTDIR') return [];
    throw error;
  });
  for (const name of names) await removeFromLower(join(dir, name), layer);
}
