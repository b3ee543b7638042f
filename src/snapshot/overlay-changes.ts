import { lstatSync, readdirSync, type BigIntStats } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../errors/index.ts';
import {
  compareLayerPaths,
  OPAQUE_WHITEOUT,
  opaqueWhiteoutEntry,
  WHITEOUT_PREFIX,
  whiteoutEntry,
  type LayerEntry,
  eventLoopTurns,
} from '../image/layer/index.ts';
import { contentXattrs, fileEntry } from './file-entry.ts';
import { isOpaque, isWhiteout, type LowerView } from './lower-view.ts';

const utf8 = new TextDecoder('utf-8', { fatal: true });

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
 * Synchronous metadata calls with a turn of the event loop every few milliseconds, as
 * src/image/layer's entriesFromDirectory (the reason is measured there).
 * @throws InputError for a name that is not UTF-8.
 */
export async function* overlayChanges(
  upper: string,
  lowers: LowerView,
  signal?: AbortSignal,
): AsyncGenerator<LayerEntry, void, undefined> {
  const hardlinks = new Map<string, string>();
  // `hidden`: no lower layer shows below this level (an opaque directory above it).
  const stack: Array<{ readonly prefix: string; readonly hidden: boolean; readonly items: Item[]; index: number }> = [
    { prefix: '', hidden: lowers.empty, items: readItems(upper, '', lowers, lowers.empty, false), index: 0 },
  ];
  const turn = eventLoopTurns();
  while (stack.length > 0) {
    await turn();
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
    const absolute = join(upper, path);
    const entry = fileEntry(path, absolute, item.stats!, contentXattrs(absolute), hardlinks);
    if (entry === undefined) continue;
    yield entry;
    if (entry.type === 'dir') {
      const opaque = isOpaque(absolute);
      const marker = opaque && !level.hidden && lowers.isDirectory(path);
      const hidden = level.hidden || opaque;
      stack.push({ prefix: path, hidden, items: readItems(upper, path, lowers, hidden, marker), index: 0 });
    }
  }
}

/**
 * The names of the upper directory `dir` as layer entries name them, in layer order, with the
 * opaque marker when `marker`. Whiteouts are kept only where a lower layer shows the name.
 */
function readItems(upper: string, dir: string, lowers: LowerView, hidden: boolean, marker: boolean): Item[] {
  const absolute = join(upper, dir);
  const items: Item[] = [];
  for (const raw of readdirSync(absolute, { encoding: 'buffer' })) {
    const real = decode(raw, absolute);
    const stats = lstatSync(join(absolute, real), { bigint: true });
    const path = dir === '' ? real : `${dir}/${real}`;
    if (isWhiteout(stats)) {
      if (!hidden && lowers.lookup(path) !== undefined) items.push({ name: `${WHITEOUT_PREFIX}${real}`, real, kind: 'whiteout' });
      continue;
    }
    items.push({ name: real, real, kind: 'entry', stats });
  }
  if (marker) items.push({ name: OPAQUE_WHITEOUT, real: OPAQUE_WHITEOUT, kind: 'opaque' });
  return items.sort((a, b) => compareLayerPaths(a.name, b.name));
}

function decode(raw: Buffer, dir: string): string {
  try {
    return utf8.decode(raw);
  } catch {
    throw new InputError(`${dir}: name ${JSON.stringify(raw.toString('latin1'))} is not UTF-8`, {
      hint: 'kiln keeps paths as UTF-8 text; rename the file',
    });
  }
}
