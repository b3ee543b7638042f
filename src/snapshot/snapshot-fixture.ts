import { execFileSync } from 'node:child_process';
import { lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { mkdtemp, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { ContentStore } from '../content/index.ts';
import { MediaType } from '../image/index.ts';
import {
  compareLayerPaths,
  decompressLayer,
  deviceMajor,
  deviceMinor,
  readLayerTar,
  writeLayerBlob,
  writeLayerTar,
  type LayerEntry,
} from '../image/layer/index.ts';
import { readXattrs } from '../native/index.ts';
import type { LayerDiff, Mount, UnpackLayer } from './snapshotter.ts';

/*
 * Test support of the snapshotters (imported by testsuite.ts and the *.test.ts files only):
 * layers built from plain entries, layers and trees listed for comparison, and mount(8) /
 * umount(8) run as child processes — tests may spawn, src/snapshot may not.
 */

/** An entry as a test writes and compares it: no times, content as text. */
export interface Listed {
  readonly path: string;
  readonly type: LayerEntry['type'];
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly linkname?: string;
  readonly content?: string;
  readonly devmajor?: number;
  readonly devminor?: number;
  readonly xattrs?: Readonly<Record<string, string>>;
}

/** The mtime of every entry of a fixture layer. */
export const FIXTURE_MTIME = 1_600_000_000;

/** A directory entry (0755 root:root unless said). */
export function dir(path: string, mode = 0o755, uid = 0, gid = 0): Listed {
  return { path, type: 'dir', mode, uid, gid };
}

/** A regular file with its content. */
export function file(path: string, content: string, mode = 0o644, uid = 0, gid = 0, xattrs?: Record<string, string>): Listed {
  return { path, type: 'file', mode, uid, gid, content, ...(xattrs === undefined ? {} : { xattrs }) };
}

/** A symlink (mode 0777, as lstat shows every symlink). */
export function symlink(path: string, linkname: string, uid = 0, gid = 0): Listed {
  return { path, type: 'symlink', mode: 0o777, uid, gid, linkname };
}

/** A hard link to the layer path `linkname`. */
export function hardlink(path: string, linkname: string, mode = 0o644, uid = 0, gid = 0): Listed {
  return { path, type: 'hardlink', mode, uid, gid, linkname };
}

/** The `.wh.` entry that deletes `path`, as snapshot diffs write it. */
export function whiteout(path: string): Listed {
  const slash = path.lastIndexOf('/');
  return { path: `${path.slice(0, slash + 1)}.wh.${path.slice(slash + 1)}`, type: 'file', mode: 0, uid: 0, gid: 0, content: '' };
}

/** The opaque marker of directory `path`. */
export function opaque(path: string): Listed {
  return { path: `${path}/.wh..wh..opq`, type: 'file', mode: 0, uid: 0, gid: 0, content: '' };
}

/** Writes `entries` (any order) as a gzip layer into `content`. */
export async function buildLayer(content: ContentStore, entries: readonly Listed[]): Promise<UnpackLayer> {
  const sorted = [...entries].sort((a, b) => compareLayerPaths(a.path, b.path));
  const layerEntries: LayerEntry[] = sorted.map((entry) => {
    const body = entry.content === undefined ? undefined : Buffer.from(entry.content);
    return {
      path: entry.path,
      type: entry.type,
      mode: entry.mode,
      uid: entry.uid,
      gid: entry.gid,
      mtime: FIXTURE_MTIME,
      ...(entry.linkname === undefined ? {} : { linkname: entry.linkname }),
      ...(entry.devmajor === undefined ? {} : { devmajor: entry.devmajor, devminor: entry.devminor }),
      ...(entry.xattrs === undefined ? {} : { xattrs: Object.fromEntries(Object.entries(entry.xattrs).map(([k, v]) => [k, Buffer.from(v)])) }),
      ...(body === undefined ? {} : { size: body.length, content: () => Readable.from([body]) }),
    };
  });
  const blob = await writeLayerBlob(writeLayerTar(layerEntries), await content.writer(), 'gzip');
  return { descriptor: { mediaType: MediaType.ociLayerGzip, digest: blob.digest, size: blob.size }, diffId: blob.diffId };
}

/** The entries of a layer a snapshotter wrote, in tar order. */
export async function listLayer(content: ContentStore, layer: LayerDiff): Promise<Listed[]> {
  const { tar } = decompressLayer(content.open(layer.descriptor.digest), layer.descriptor.mediaType === MediaType.ociLayer ? 'uncompressed' : 'gzip');
  const listed: Listed[] = [];
  for await (const entry of readLayerTar(tar)) {
    const chunks: Buffer[] = [];
    for await (const chunk of entry.body) chunks.push(chunk as Buffer);
    const xattrs = entry.xattrs === undefined ? {} : Object.fromEntries(Object.entries(entry.xattrs).map(([k, v]) => [k, v.toString()]));
    listed.push({
      path: entry.path,
      type: entry.type,
      mode: entry.mode,
      uid: entry.uid,
      gid: entry.gid,
      ...(entry.linkname === undefined || entry.linkname === '' ? {} : { linkname: entry.linkname }),
      ...(entry.type === 'file' ? { content: Buffer.concat(chunks).toString() } : {}),
      ...(entry.type === 'char' || entry.type === 'block' ? { devmajor: entry.devmajor, devminor: entry.devminor } : {}),
      ...(Object.keys(xattrs).length === 0 ? {} : { xattrs }),
    });
  }
  return listed;
}

/**
 * Every entry below `root` (not the root itself) in layer order, with mtimes in whole seconds
 * (directories' too, but for `skipDirTimes`) and a second name of an inode as a hardlink to the
 * first: what two trees must share to show the same files.
 */
export function listTree(root: string, options: { readonly skipDirTimes?: boolean } = {}): Array<Listed & { readonly mtime?: number }> {
  const out: Array<Listed & { mtime?: number }> = [];
  const inodes = new Map<string, string>();
  const walk = (rel: string): void => {
    const names = readdirSync(join(root, rel)).sort(compareLayerPaths);
    for (const name of names) {
      const path = rel === '' ? name : `${rel}/${name}`;
      const absolute = join(root, path);
      const stats = lstatSync(absolute, { bigint: true });
      const common = {
        path,
        mode: Number(stats.mode & 0o7777n),
        uid: Number(stats.uid),
        gid: Number(stats.gid),
        mtime: Number(stats.mtimeNs / 1_000_000_000n),
      };
      const raw = readXattrs(absolute);
      const xattrs = Object.fromEntries(Object.entries(raw).filter(([k]) => !k.startsWith('trusted.overlay.')).map(([k, v]) => [k, v.toString()]));
      const extra = Object.keys(xattrs).length === 0 ? {} : { xattrs };
      if (!stats.isDirectory() && stats.nlink > 1n) {
        const key = `${stats.dev}:${stats.ino}`;
        const first = inodes.get(key);
        if (first !== undefined) {
          out.push({ ...common, type: 'hardlink', linkname: first });
          continue;
        }
        inodes.set(key, path);
      }
      if (stats.isDirectory()) {
        const { mtime, ...rest } = common;
        out.push({ ...rest, ...(options.skipDirTimes === true ? {} : { mtime }), type: 'dir', ...extra });
        walk(path);
      } else if (stats.isFile()) out.push({ ...common, type: 'file', content: readFileSync(absolute, 'utf8'), ...extra });
      else if (stats.isSymbolicLink()) out.push({ ...common, mode: 0o777, type: 'symlink', linkname: readlinkSync(absolute), ...extra });
      else if (stats.isFIFO()) out.push({ ...common, type: 'fifo', ...extra });
      else {
        out.push({
          ...common,
          type: stats.isCharacterDevice() ? 'char' : 'block',
          devmajor: deviceMajor(stats.rdev),
          devminor: deviceMinor(stats.rdev),
          ...extra,
        });
      }
    }
  };
  walk('');
  return out;
}

/** Mounts `mounts` on a fresh directory under `base` with mount(8), runs `use`, and unmounts in every case. */
export async function withMounted<T>(base: string, mounts: readonly Mount[], use: (dir: string) => Promise<T> | T): Promise<T> {
  if (mounts.length !== 1) throw new Error(`expected one mount, got ${mounts.length}`);
  const mount = mounts[0]!;
  const target = await mkdtemp(join(base, 'm-'));
  try {
    const options = mount.options.join(',');
    const args = mount.type === 'overlay' ? ['-t', 'overlay', '-o', options, mount.source, target] : ['-o', options, mount.source, target];
    execFileSync('mount', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    try {
      return await use(target);
    } finally {
      execFileSync('umount', [target], { stdio: ['ignore', 'ignore', 'pipe'] });
    }
  } finally {
    await rmdir(target);
  }
}

/** Mount points under `base`, from /proc/self/mountinfo (field 5, octal escapes decoded). */
export function mountsUnder(base: string): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((line) => line.split(' ')[4])
    .filter((point): point is string => point !== undefined)
    .map((point) => point.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8))))
    .filter((point) => point === base || point.startsWith(`${base}/`));
}
