import { constants, lstatSync, type BigIntStats } from 'node:fs';
import { resolve } from 'node:path';
import {
  compareLayerPaths,
  directoryNames,
  OPAQUE_WHITEOUT,
  opaqueWhiteoutEntry,
  WHITEOUT_PREFIX,
  whiteoutEntry,
  type LayerEntry,
  isOverlayXattr,
} from '../image/layer/index.ts';
import { readXattrs } from '../native/index.ts';
import { contentXattrs, fileEntry } from './file-entry.ts';
import { isOpaqueMark, isWhiteout, OPAQUE_XATTR, type LowerView } from './lower-view.ts';

const { S_IFMT, S_IFDIR, S_IFCHR } = constants;

/** One name of a directory of the upper directory, as it goes into the layer. */
interface Item {
  /** The name in the layer: the file's own, or `.wh.<name>` for a whiteout. */
  readonly name: string;
  readonly real: string;
  readonly kind: 'entry' | 'whiteout' | 'opaque';
  readonly stats?: BigIntStats;
}

/**
 * The changes an overlay upper directory holds against the lower layers under it, as layer
 * entries in layer order (the overlay differ of containerd's continuity fs.Changes with
 * DiffSourceOverlayFS, and of BuildKit's util/overlay): every entry of the upper directory in
 * full (overlayfs copies a file up whole for any change, metadata included, and copies up
 * the parent directories of every change with their metadata, so the upper directory holds
 * exactly what a layer needs); a whiteout (character device 0:0) as `.wh.<name>`; an opaque
 * directory (`trusted.overlay.opaque=y`) as the directory and its `.wh..wh..opq` marker.
 * Hard links are tar hard links to the first name in layer order.
 *
 * `lowers` normalises what overlayfs leaves over-cautious: a whiteout of a name no lower layer
 * shows, or an opaque mark on a directory no lower layer holds (overlayfs marks directories
 * renamed into a merged one), hides nothing and is left out, so the layer is the same as the
 * copy snapshotter's.
 *
 * Synchronous metadata calls, as src/image/layer's entriesFromDirectory makes them (the
 * reason is measured there), in a synchronous generator: the tar writer pulls its entries
 * without a promise each and gives the event loop a turn every few milliseconds. A
 * directory's names are read and lstat'd when the walk enters it. `signal` is checked
 * before each entry.
 * @throws InputError for a name that is not UTF-8.
 */
export function* overlayChanges(upperDir: string, lowers: LowerView, signal?: AbortSignal): Generator<LayerEntry, void, undefined> {
  // Paths below it are joined by hand: path.join costs more than the rest of an entry's bookkeeping.
  const upper = resolve(upperDir);
  const hardlinks = new Map<string, string>();
  // `hidden`: no lower layer shows below this level (an opaque directory above it).
  const stack: Array<{ readonly prefix: string; readonly hidden: boolean; readonly items: Item[]; index: number }> = [
    { prefix: '', hidden: lowers.empty, items: readItems(upper, '', lowers, lowers.empty, false), index: 0 },
  ];
  while (stack.length > 0) {
    signal?.throwIfAborted();
    const level = stack[stack.length - 1]!;
    const item = level.items[level.index++];
    if (item === undefined) {
      stack.pop();
      continue;
    }
    const path = level.prefix === '' ? item.name : `${level.prefix}/${item.name}`;
    if (item.kind === 'whiteout') {
      yield whiteoutEntry(level.prefix === '' ? item.real : `${level.prefix}/${item.real}`);
      continue;
    }
    if (item.kind === 'opaque') {
      yield opaqueWhiteoutEntry(level.prefix);
      continue;
    }
    const absolute = `${upper}/${path}`;
    const stats = item.stats!;
    if ((Number(stats.mode) & S_IFMT) !== S_IFDIR) {
      const entry = fileEntry(path, absolute, stats, contentXattrs(absolute), hardlinks);
      if (entry !== undefined) yield entry;
      continue;
    }
    // A directory's attributes are read once: its opaque mark is among them.
    const xattrs = readXattrs(absolute);
    const opaque = isOpaqueMark(xattrs[OPAQUE_XATTR]);
    for (const name of Object.keys(xattrs)) if (isOverlayXattr(name)) delete xattrs[name];
    yield fileEntry(path, absolute, stats, xattrs, hardlinks)!;
    const marker = opaque && !level.hidden && lowers.isDirectory(path);
    const hidden = level.hidden || opaque;
    stack.push({ prefix: path, hidden, items: readItems(upper, path, lowers, hidden, marker), index: 0 });
  }
}

/**
 * The names of the upper directory `dir` as layer entries name them, in layer order, with the
 * opaque marker when `marker`. Whiteouts are kept only where a lower layer shows the name.
 */
function readItems(upper: string, dir: string, lowers: LowerView, hidden: boolean, marker: boolean): Item[] {
  const absolute = dir === '' ? upper : `${upper}/${dir}`;
  const items: Item[] = [];
  for (const real of directoryNames(absolute)) {
    const stats = lstatSync(`${absolute}/${real}`, { bigint: true });
    if ((Number(stats.mode) & S_IFMT) === S_IFCHR && isWhiteout(stats)) {
      const path = dir === '' ? real : `${dir}/${real}`;
      if (!hidden && lowers.lookup(path) !== undefined) items.push({ name: `${WHITEOUT_PREFIX}${real}`, real, kind: 'whiteout' });
      continue;
    }
    items.push({ name: real, real, kind: 'entry', stats });
  }
  if (marker) items.push({ name: OPAQUE_WHITEOUT, real: OPAQUE_WHITEOUT, kind: 'opaque' });
  return items.sort((a, b) => compareLayerPaths(a.name, b.name));
}
