import { closeSync, lstatSync, openSync, readlinkSync, readSync, type BigIntStats } from 'node:fs';
import { join } from 'node:path';
import { directoryNames, eventLoopTurns, compareLayerPaths, opaqueWhiteoutEntry, OPAQUE_WHITEOUT, WHITEOUT_PREFIX, whiteoutEntry, type LayerEntry } from '../image/layer/index.ts';
import { contentXattrs, fileEntry, sameXattrs } from './file-entry.ts';

/** Options of {@link treeChanges}. */
export interface TreeChangesOptions {
  /**
   * Birth time (ns) from which a directory counts as made after the upper tree was copied: one
   * born then, at a path where the lower tree has one too, was deleted and made again, and is
   * written as opaque, as overlayfs records it. Without it (or on a file system without birth
   * times) such a directory is compared entry by entry, which whites out each deleted child.
   */
  readonly bornAfterNs?: bigint;
  readonly signal?: AbortSignal;
}

/** Two mtimes this close are the same: the copy sets times to the microsecond (copy-tree.ts). */
const MTIME_SLACK_NS = 1000n;

/** One path of the layer being planned. */
interface Planned {
  /** Its path in the layer (`.wh.` names for whiteouts). */
  readonly path: string;
  readonly kind: 'entry' | 'whiteout' | 'opaque';
  /** For a whiteout, the path it deletes; for an opaque marker, its directory. */
  readonly target?: string;
}

/**
 * The changes from the tree `lower` (none: the empty tree) to the tree `upper`, two full
 * copies, as layer entries in layer order: the same entries the overlay snapshotter writes
 * for the same changes made through a mount (the double-walking differ of containerd's
 * continuity fs.Changes and BuildKit's, made to agree with overlayfs where they differ).
 *
 * - A path only in `upper` is added, with everything under it; a path only in `lower` is
 *   deleted, as one whiteout however much it held.
 * - A path in both has changed when its type, mode, owner, mtime, size, symlink target, device
 *   numbers or extended attributes differ, or, for a file whose lower mtime has no sub-second
 *   part (extracted from a tar, so a same-size rewrite within that second would not show),
 *   when its bytes differ (BuildKit's rule). A changed path is written in full.
 * - A directory that replaces a non-directory is written with everything under it; one
 *   deleted and made again (see {@link TreeChangesOptions.bornAfterNs}) likewise, and opaque.
 * - When any name of a file with several links changed, all its names are written: the first
 *   in layer order in full, the others as hard links to it (containerd's ChangeWriter).
 * - Every directory holding a change is written too, with its metadata from `upper`.
 *
 * The comparison runs first, handing the event loop turns, and holds the changed paths (not
 * their content) in memory; it resolves to a synchronous iterable of the entries, each made
 * (lstat, xattrs) as it is pulled, which the tar writer pulls without a promise per entry.
 */
export async function treeChanges(lower: string | undefined, upper: string, options: TreeChangesOptions = {}): Promise<Iterable<LayerEntry>> {
  return entriesOf(await planChanges(lower, upper, options), upper, options.signal);
}

function* entriesOf(plan: readonly Planned[], upper: string, signal: AbortSignal | undefined): Generator<LayerEntry, void, undefined> {
  const hardlinks = new Map<string, string>();
  for (const item of plan) {
    signal?.throwIfAborted();
    if (item.kind === 'whiteout') {
      yield whiteoutEntry(item.target!);
    } else if (item.kind === 'opaque') {
      yield opaqueWhiteoutEntry(item.target!);
    } else {
      const absolute = join(upper, item.path);
      const entry = fileEntry(item.path, absolute, lstatSync(absolute, { bigint: true }), contentXattrs(absolute), hardlinks);
      if (entry !== undefined) yield entry;
    }
  }
}

async function planChanges(lower: string | undefined, upper: string, options: TreeChangesOptions): Promise<Planned[]> {
  const bornAfter = options.bornAfterNs;
  const changed = new Set<string>();
  const planned: Planned[] = [];
  /** Names of every file with several links in `upper`, by inode, and whether one changed. */
  const inodes = new Map<string, { names: string[]; changed: boolean }>();
  const note = (path: string, stats: BigIntStats, isChanged: boolean): void => {
    if (stats.isDirectory() || stats.nlink < 2n) return;
    const key = `${stats.dev}:${stats.ino}`;
    const group = inodes.get(key) ?? { names: [], changed: false };
    group.names.push(path);
    group.changed ||= isChanged;
    inodes.set(key, group);
  };
  const add = (path: string): void => {
    changed.add(path);
    planned.push({ path, kind: 'entry' });
  };

  // Directories to compare: with a lower counterpart (`both`) or added whole (`added`).
  const stack: Array<{ readonly rel: string; readonly both: boolean }> = [{ rel: '', both: lower !== undefined }];
  const turn = eventLoopTurns();
  while (stack.length > 0) {
    const pause = turn();
    if (pause) await pause;
    options.signal?.throwIfAborted();
    const { rel, both } = stack.pop()!;
    const upperNames = directoryNames(join(upper, rel));
    const lowerNames = both ? directoryNames(join(lower!, rel)) : [];
    const inUpper = new Set(upperNames);
    for (const name of lowerNames) {
      if (inUpper.has(name)) continue;
      const path = join2(rel, name);
      changed.add(path);
      planned.push({ path: join2(rel, `${WHITEOUT_PREFIX}${name}`), kind: 'whiteout', target: path });
    }
    const inLower = new Set(lowerNames);
    for (const name of upperNames) {
      const path = join2(rel, name);
      const u = lstatSync(join(upper, path), { bigint: true });
      if (u.isSocket()) continue;
      const l = inLower.has(name) ? lstatSync(join(lower!, path), { bigint: true }) : undefined;
      if (u.isDirectory()) {
        if (l === undefined) {
          add(path);
          stack.push({ rel: path, both: false });
        } else if (!l.isDirectory()) {
          // It replaces what was there whole; nothing of the lower tree is below it to hide.
          add(path);
          stack.push({ rel: path, both: false });
        } else if (bornAfter !== undefined && bornAfter > 0n && u.birthtimeNs >= bornAfter) {
          add(path);
          planned.push({ path: join2(path, OPAQUE_WHITEOUT), kind: 'opaque', target: path });
          stack.push({ rel: path, both: false });
        } else {
          if (!sameMetadata(u, l) || !sameXattrs(contentXattrs(join(upper, path)), contentXattrs(join(lower!, path)))) add(path);
          stack.push({ rel: path, both: true });
        }
        continue;
      }
      const isChanged = l === undefined || !sameNode(join(upper, path), u, join(lower!, path), l);
      if (isChanged) add(path);
      note(path, u, isChanged);
    }
  }

  for (const group of inodes.values()) {
    if (!group.changed) continue;
    for (const name of group.names) if (!changed.has(name)) add(name);
  }
  // The directories holding changes, with their metadata from `upper`.
  for (const path of [...changed]) {
    for (let slash = path.lastIndexOf('/'); slash > 0; slash = path.lastIndexOf('/', slash - 1)) {
      const dir = path.slice(0, slash);
      if (changed.has(dir)) break;
      add(dir);
    }
  }
  return planned.sort((a, b) => compareLayerPaths(a.path, b.path));
}

function join2(dir: string, name: string): string {
  return dir === '' ? name : `${dir}/${name}`;
}

function sameMetadata(u: BigIntStats, l: BigIntStats): boolean {
  const mtime = u.mtimeNs - l.mtimeNs;
  return (
    (u.mode & 0o170000n) === (l.mode & 0o170000n) &&
    // A symlink's permission bits mean nothing and are not kept by every copy.
    (u.isSymbolicLink() || (u.mode & 0o7777n) === (l.mode & 0o7777n)) &&
    u.uid === l.uid &&
    u.gid === l.gid &&
    mtime <= MTIME_SLACK_NS &&
    mtime >= -MTIME_SLACK_NS
  );
}

function sameNode(upperPath: string, u: BigIntStats, lowerPath: string, l: BigIntStats): boolean {
  if (!sameMetadata(u, l)) return false;
  if (u.isSymbolicLink()) return readlinkSync(upperPath) === readlinkSync(lowerPath) && sameXattrs(contentXattrs(upperPath), contentXattrs(lowerPath));
  if ((u.isCharacterDevice() || u.isBlockDevice()) && u.rdev !== l.rdev) return false;
  if (u.isFile()) {
    if (u.size !== l.size) return false;
    if (!sameXattrs(contentXattrs(upperPath), contentXattrs(lowerPath))) return false;
    return l.mtimeNs % 1_000_000_000n !== 0n || sameBytes(upperPath, lowerPath);
  }
  return sameXattrs(contentXattrs(upperPath), contentXattrs(lowerPath));
}

function sameBytes(a: string, b: string): boolean {
  const fa = openSync(a, 'r');
  try {
    const fb = openSync(b, 'r');
    try {
      const ba = Buffer.allocUnsafe(1 << 16);
      const bb = Buffer.allocUnsafe(1 << 16);
      for (;;) {
        const ra = readFull(fa, ba);
        const rb = readFull(fb, bb);
        if (ra !== rb || !ba.subarray(0, ra).equals(bb.subarray(0, rb))) return false;
        if (ra < ba.length) return true;
      }
    } finally {
      closeSync(fb);
    }
  } finally {
    closeSync(fa);
  }
}

function readFull(fd: number, buffer: Buffer): number {
  let length = 0;
  while (length < buffer.length) {
    const read = readSync(fd, buffer, length, buffer.length - length, null);
    if (read === 0) break;
    length += read;
  }
  return length;
}
