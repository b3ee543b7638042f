import { createHash, type Hash } from 'node:crypto';
import { type BigIntStats, readlinkSync } from 'node:fs';
import { basename, relative } from 'node:path';
import { type Digest, digestOf } from '../../content/index.ts';
import { deviceMajor, deviceMinor, eventLoopTurns, isOverlayXattr } from '../../image/layer/index.ts';
import { readXattrs } from '../../native/index.ts';
import { type ContentReader, fileContentReader } from './content-reader.ts';
import type { CopySelection } from './copy-selection.ts';
import { selectSources } from './select-sources.ts';
import { SourceTree } from './source-tree.ts';
import type { StatCache } from './stat-cache.ts';
import { walkMatch } from './walk-selection.ts';

/** What {@link checksumSources} digests: a COPY's selection, and whether it sets owners. */
export interface ChecksumRequest extends CopySelection {
  /**
   * Present (any value: the resolved owner, the `--chown` text) when the copy sets its own
   * owner; the source's owners then do not reach the output and are left out.
   */
  readonly owner?: unknown;
  /** Where entry digests are remembered by metadata; the caller saves it when done. */
  readonly statCache?: StatCache;
  /** Reads file contents (default: the file system, streamed). */
  readonly reader?: ContentReader;
  /**
   * Told each entry (its path below the source root) whose content had to be read or
   * re-hashed because the stat cache did not know it as it is now: with a warm stat cache,
   * the files added or changed since they were last hashed. For miss explanations.
   */
  readonly onRehash?: (path: string) => void;
  readonly signal?: AbortSignal;
}

/** Versions the record layout: a change to what is hashed changes every key. */
const SCHEMA = 'kiln.contenthash.v1';

/**
 * The content digest of exactly what a copy of `request` reads, for its cache key: the
 * sources resolved and walked by the same code as the copy (src/solver/file), so the same
 * wildcards, symlinks, ignore rules, `--exclude` and `--parents` apply. Hashed, per entry in
 * walk order: its path relative to the selected source (the base name of a selected file),
 * its type, permission bits (07777), owner only when it reaches the output (a `rootfs`
 * source without `owner`: context files count as 0:0), a symlink's target, a device's
 * numbers, a file's size, a hard link's first path, and a digest of the entry's extended
 * attributes with, for a file, its content's sha256. Never times, and never what the ignore
 * rules or `--exclude` leave out.
 *
 * An entry whose metadata is unchanged since `statCache` recorded it is neither read nor
 * asked for its extended attributes: re-hashing an unchanged tree costs one lstat(2) per entry.
 *
 * @throws NotFoundError naming a source that does not exist or is excluded by the ignore
 * file (as the copy would); the abort reason when `signal` aborts
 */
export async function checksumSources(request: ChecksumRequest): Promise<Digest> {
  const signal = request.signal;
  signal?.throwIfAborted();
  const reader = request.reader ?? fileContentReader;
  const cache = request.statCache;
  const tree = await SourceTree.open(request.source);
  const selection = selectSources(tree, request);
  const owners = tree.kind === 'rootfs' && request.owner === undefined;
  const onRehash = request.onRehash;
  const rehashed = onRehash === undefined ? undefined : (path: string): void => onRehash(relative(request.source.dir, path));
  const hash = createHash('sha256');
  write(hash, [SCHEMA, owners]);
  const turn = eventLoopTurns();
  for (const [index, source] of selection.sources.entries()) {
    write(hash, ['source', index, source.matches.length]);
    for (const match of source.matches) {
      write(hash, ['match', basename(match.path)]);
      const firstLinks = new Map<string, string>();
      for (const event of walkMatch(tree, source, match, selection.exclude)) {
        await turn();
        signal?.throwIfAborted();
        if (event.kind === 'leave') continue;
        const { rel, path, stats } = event;
        const owner = owners ? [Number(stats.uid), Number(stats.gid)] : null;
        const mode = Number(stats.mode & 0o7777n);
        if (event.kind === 'dir') {
          write(hash, ['dir', rel, mode, owner, event.implied, await detail(path, stats, reader, cache, signal, rehashed)]);
        } else if (stats.isFile()) {
          if (stats.nlink > 1n) {
            // fsutil links a second path to an inode it copied (getLinkSource).
            const key = `${stats.dev}:${stats.ino}`;
            const first = firstLinks.get(key);
            if (first !== undefined) {
              write(hash, ['link', rel, first]);
              continue;
            }
            firstLinks.set(key, rel);
          }
          write(hash, ['file', rel, mode, owner, `${stats.size}`, await detail(path, stats, reader, cache, signal, rehashed)]);
        } else if (stats.isSymbolicLink()) {
          write(hash, ['symlink', rel, owner, readlinkSync(path), await detail(path, stats, reader, cache, signal, rehashed)]);
        } else {
          const type = stats.isFIFO() ? 'fifo' : stats.isSocket() ? 'socket' : stats.isCharacterDevice() ? 'char' : 'block';
          const device = type === 'char' || type === 'block' ? [deviceMajor(stats.rdev), deviceMinor(stats.rdev)] : null;
          write(hash, [type, rel, mode, owner, device, await detail(path, stats, reader, cache, signal, rehashed)]);
        }
      }
    }
  }
  return `sha256:${hash.digest('hex')}` as Digest;
}

/**
 * What an entry holds beyond its lstat: a file's content digest and any entry's extended
 * attributes, hashed together. Kept in the stat cache by metadata (setxattr(2) moves ctime
 * too), so an unchanged entry costs neither a read nor an llistxattr(2).
 */
async function detail(
  path: string,
  stats: BigIntStats,
  reader: ContentReader,
  cache: StatCache | undefined,
  signal: AbortSignal | undefined,
  onRehash?: (path: string) => void,
): Promise<Digest> {
  const known = cache?.lookup(path, stats);
  if (known !== undefined) return known;
  if (cache !== undefined && !stats.isDirectory()) onRehash?.(path);
  const readAt = cache?.now();
  const xattrs = xattrRecord(path);
  const content = stats.isFile() ? await reader.digest(path, stats.size, signal) : null;
  const digest = digestOf(JSON.stringify([content, xattrs]));
  cache?.record(path, stats, digest, readAt);
  return digest;
}

/** The entry's extended attributes the copy would carry, by name, values in base64. */
function xattrRecord(path: string): [string, string][] | null {
  const all = readXattrs(path);
  const names = Object.keys(all).filter((name) => !isOverlayXattr(name));
  if (names.length === 0) return null;
  return names.map((name) => [name, (all[name] as Buffer).toString('base64')]);
}

/** One record: a JSON line (JSON.stringify is canonical for arrays of plain values). */
function write(hash: Hash, record: readonly unknown[]): void {
  hash.update(`${JSON.stringify(record)}\n`);
}
