import type { LayerEntry } from './layer-entry.ts';

/**
 * The prefix that marks a deleted path (image-spec layer.md, "Whiteouts"): `a/.wh.b` in a
 * layer deletes `a/b` of the layers below.
 */
export const WHITEOUT_PREFIX = '.wh.';

/** The entry that makes a directory opaque: nothing below it from lower layers shows. */
export const OPAQUE_WHITEOUT = '.wh..wh..opq';

/** What a whiteout entry means. */
export type Whiteout =
  | { readonly kind: 'whiteout'; /** The path it deletes. */ readonly target: string }
  | { readonly kind: 'opaque'; /** The directory it makes opaque. */ readonly dir: string };

/**
 * The entry that deletes `path` in a layer: an empty regular file `<dir>/.wh.<base>`, mode 0,
 * owned by root, as containerd's diff writer emits it. `mtime` defaults to 0 so a layer is
 * deterministic; BuildKit passes SOURCE_DATE_EPOCH. The entry sorts by its own name among its
 * siblings ({@link compareLayerPaths}).
 */
export function whiteoutEntry(path: string, mtime = 0): LayerEntry {
  const slash = path.lastIndexOf('/');
  return marker(`${path.slice(0, slash + 1)}${WHITEOUT_PREFIX}${path.slice(slash + 1)}`, mtime);
}

/**
 * The entry that makes directory `dir` opaque: `<dir>/.wh..wh..opq`, written after the
 * directory's own entry (layer.md "Opaque Whiteout"). `dir` is `''` for the layer root.
 */
export function opaqueWhiteoutEntry(dir: string, mtime = 0): LayerEntry {
  return marker(dir === '' ? OPAQUE_WHITEOUT : `${dir}/${OPAQUE_WHITEOUT}`, mtime);
}

/**
 * What a path in a layer means when its base name starts with `.wh.`: the path it deletes,
 * or the directory it makes opaque; undefined for an ordinary path.
 */
export function parseWhiteout(path: string): Whiteout | undefined {
  const trimmed = path.endsWith('/') ? path.slice(0, -1) : path;
  const slash = trimmed.lastIndexOf('/');
  const base = trimmed.slice(slash + 1);
  if (!base.startsWith(WHITEOUT_PREFIX)) return undefined;
  const dir = trimmed.slice(0, Math.max(slash, 0));
  if (base === OPAQUE_WHITEOUT) return { kind: 'opaque', dir };
  return { kind: 'whiteout', target: `${trimmed.slice(0, slash + 1)}${base.slice(WHITEOUT_PREFIX.length)}` };
}

function marker(path: string, mtime: number): LayerEntry {
  return { path, type: 'file', mode: 0, uid: 0, gid: 0, mtime, size: 0 };
}
