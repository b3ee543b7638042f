import { closeSync, createReadStream, openSync, readlinkSync, readSync, type BigIntStats } from 'node:fs';
import { Readable } from 'node:stream';
import { InputError } from '../../errors/index.ts';
import { readXattrs } from '../../native/index.ts';
import { deviceMajor, deviceMinor } from './device-numbers.ts';
import type { LayerEntry } from './layer-entry.ts';
import { isOverlayXattr } from './overlay-xattr.ts';

/*
 * How a file on disk becomes a layer entry: entriesFromDirectory does it for a whole tree,
 * the snapshot differs for the files they choose, under the names they choose.
 */

/** Files up to this size are read in one synchronous call when the writer reaches them. */
const SMALL_FILE = 256 * 1024;
const READ_CHUNK = 1 << 20;

/** Every extended attribute of `path` (not followed) but overlayfs's own, by name. */
export function contentXattrs(path: string): Record<string, Buffer> {
  const all = readXattrs(path);
  for (const name of Object.keys(all)) if (isOverlayXattr(name)) delete all[name];
  return all;
}

/** Whole seconds of a nanosecond time, floored (a time before 1970 too). */
export function seconds(ns: bigint): number {
  const whole = ns / 1_000_000_000n;
  return Number(ns < 0n && whole * 1_000_000_000n !== ns ? whole - 1n : whole);
}

/**
 * The layer entry for `path` (layer-relative) found at `absolute` with `stats` (lstat) and
 * `xattrs`; undefined for a socket, which tar cannot hold. A second path to an inode
 * `hardlinks` already maps becomes a `hardlink` to the first one; the first path of an inode
 * with several links is recorded there. A file's content is read when the tar writer gets to
 * it.
 * @throws InputError for a file type tar cannot hold.
 */
export function fileEntry(
  path: string,
  absolute: string,
  stats: BigIntStats,
  xattrs: Readonly<Record<string, Buffer>>,
  hardlinks: Map<string, string>,
): LayerEntry | undefined {
  const common = {
    path,
    mode: Number(stats.mode & 0o7777n),
    uid: Number(stats.uid),
    gid: Number(stats.gid),
    mtime: seconds(stats.mtimeNs),
  };
  if (stats.isSocket()) return undefined;
  if (stats.nlink > 1n && !stats.isDirectory()) {
    const key = `${stats.dev}:${stats.ino}`;
    const first = hardlinks.get(key);
    if (first !== undefined) return { ...common, type: 'hardlink', linkname: first };
    hardlinks.set(key, path);
  }
  const base = Object.keys(xattrs).length === 0 ? common : { ...common, xattrs };
  if (stats.isDirectory()) return { ...base, type: 'dir' };
  if (stats.isFile()) {
    const size = Number(stats.size);
    const content =
      size <= SMALL_FILE
        ? () => Readable.from([readSmallFile(absolute, size)], { objectMode: false })
        : () => createReadStream(absolute, { highWaterMark: Math.min(READ_CHUNK, size + 1) });
    return { ...base, type: 'file', size, content };
  }
  if (stats.isSymbolicLink()) return { ...base, type: 'symlink', linkname: readlinkSync(absolute) };
  if (stats.isFIFO()) return { ...base, type: 'fifo' };
  if (stats.isCharacterDevice() || stats.isBlockDevice()) {
    return {
      ...base,
      type: stats.isCharacterDevice() ? 'char' : 'block',
      devmajor: deviceMajor(stats.rdev),
      devminor: deviceMinor(stats.rdev),
    };
  }
  throw new InputError(`${absolute}: unsupported file type (mode ${stats.mode.toString(8)})`);
}

/**
 * Reads a small file whole, asking one byte more than lstat said, so that a file that grew
 * shows as too long to the tar writer (IntegrityError) rather than as silently cut.
 */
function readSmallFile(path: string, size: number): Buffer {
  const fd = openSync(path, 'r');
  try {
    const buffer = Buffer.allocUnsafe(size + 1);
    let length = 0;
    while (length < buffer.length) {
      const read = readSync(fd, buffer, length, buffer.length - length, null);
      if (read === 0) break;
      length += read;
    }
    return buffer.subarray(0, length);
  } finally {
    closeSync(fd);
  }
}
