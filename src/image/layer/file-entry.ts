import { closeSync, constants, createReadStream, openSync, readlinkSync, readSync, type BigIntStats } from 'node:fs';
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

const { S_IFMT, S_IFSOCK, S_IFDIR, S_IFREG, S_IFLNK, S_IFIFO, S_IFCHR, S_IFBLK } = constants;

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
 * it: through `readInto` (open, read, close; see {@link LayerEntry.readInto}) for the small
 * files the writer reads straight into its output, through `readAt` for larger ones (a chunk
 * at a time, into the writer's output too), through `content` for other readers (whole in one
 * synchronous read up to 256 KiB, streamed above). Small files are opened with O_NOATIME where
 * the process may (see `readFlags`), so archiving does not change the tree it reads.
 * @throws InputError for a file type tar cannot hold.
 */
export function fileEntry(
  path: string,
  absolute: string,
  stats: BigIntStats,
  xattrs: Readonly<Record<string, Buffer>>,
  hardlinks: Map<string, string>,
): LayerEntry | undefined {
  // One conversion of st_mode, then plain number arithmetic (each BigInt operation allocates).
  const fullMode = Number(stats.mode);
  const format = fullMode & S_IFMT;
  if (format === S_IFSOCK) return undefined;
  const mode = fullMode & 0o7777;
  const uid = Number(stats.uid);
  const gid = Number(stats.gid);
  const mtime = seconds(stats.mtimeNs);
  if (format !== S_IFDIR && stats.nlink > 1n) {
    const key = `${stats.dev}:${stats.ino}`;
    const first = hardlinks.get(key);
    if (first !== undefined) return { path, type: 'hardlink', mode, uid, gid, mtime, linkname: first };
    hardlinks.set(key, path);
  }
  let entry: LayerEntry;
  switch (format) {
    case S_IFDIR:
      entry = { path, type: 'dir', mode, uid, gid, mtime };
      break;
    case S_IFREG: {
      const size = Number(stats.size);
      entry = {
        path,
        type: 'file',
        mode,
        uid,
        gid,
        mtime,
        size,
        content: () => openBody(absolute, size),
        readInto: (target, offset, length) => readFileInto(absolute, target, offset, length, 0),
        readAt: (target, offset, length, position) => readFileInto(absolute, target, offset, length, position),
      };
      break;
    }
    case S_IFLNK:
      entry = { path, type: 'symlink', mode, uid, gid, mtime, linkname: readlinkSync(absolute) };
      break;
    case S_IFIFO:
      entry = { path, type: 'fifo', mode, uid, gid, mtime };
      break;
    case S_IFCHR:
    case S_IFBLK:
      entry = {
        path,
        type: format === S_IFCHR ? 'char' : 'block',
        mode,
        uid,
        gid,
        mtime,
        devmajor: deviceMajor(stats.rdev),
        devminor: deviceMinor(stats.rdev),
      };
      break;
    default:
      throw new InputError(`${absolute}: unsupported file type (mode ${stats.mode.toString(8)})`);
  }
  for (const _ in xattrs) return { ...entry, xattrs };
  return entry;
}

/** A stream of the body of the file at `path`, `size` bytes long by its lstat. */
function openBody(path: string, size: number): Readable {
  if (size <= SMALL_FILE) return Readable.from([readSmallFile(path, size)], { objectMode: false });
  return createReadStream(path, { highWaterMark: Math.min(READ_CHUNK, size + 1) });
}

/**
 * Reads a small file whole, asking one byte more than lstat said, so that a file that grew
 * shows as too long to the tar writer (IntegrityError) rather than as silently cut.
 */
function readSmallFile(path: string, size: number): Buffer {
  const buffer = Buffer.allocUnsafe(size + 1);
  return buffer.subarray(0, readFileInto(path, buffer, 0, buffer.length, 0));
}

/**
 * Reads up to `length` bytes of the file at `path` from byte `position` into `target` at `offset`.
 * A read that returns less than it was asked for is taken as the end of the file: read(2)
 * of a regular file returns less only there (or when a signal interrupts it, which local file
 * systems do not allow), so a file read to its end costs one read(2), not a second one that
 * returns 0. Were a read ever cut short, the body would come out short, and the tar writer
 * fail with IntegrityError: loudly, never a wrong layer.
 */
function readFileInto(path: string, target: Buffer, offset: number, length: number, position: number): number {
  const fd = openForReading(path);
  try {
    let done = 0;
    while (done < length) {
      const asked = length - done;
      const read = readSync(fd, target, offset + done, asked, position + done);
      done += read;
      if (read < asked) break;
    }
    return done;
  } finally {
    closeSync(fd);
  }
}

/**
 * Flags for reading a file into a layer: O_NOATIME (open(2)) keeps the read from updating the
 * file's atime — under relatime the first read after a write does, which dirties the inode,
 * and costs a diff of freshly written files a fifth of its time. Dropped for good after the
 * first EPERM: it is allowed only to the file's owner and to CAP_FOWNER.
 */
let readFlags = constants.O_RDONLY | constants.O_NOATIME;

function openForReading(path: string): number {
  try {
    return openSync(path, readFlags);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM' || readFlags === constants.O_RDONLY) throw error;
    readFlags = constants.O_RDONLY;
    return openSync(path, readFlags);
  }
}
