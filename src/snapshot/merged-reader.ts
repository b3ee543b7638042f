import { readFileSync, readlinkSync, type BigIntStats } from 'node:fs';
import { join } from 'node:path';
import { LowerView } from './lower-view.ts';
import type { Mount } from './snapshotter.ts';

/** How many symbolic links a lookup follows before giving up (path_resolution(7) allows 40). */
const MAX_LINKS = 40;

/**
 * Reads the file system a snapshot's {@link Mount}s show, without mounting it: a bind's
 * directory directly; an overlay through its layer directories (upper, then lowers), with
 * overlayfs's whiteouts and opaque directories. Paths are resolved inside that root: every
 * symlink, absolute or relative, stays below it. For small reads before a step runs (who the
 * user is, which mount points exist), where a mount would cost more than the read.
 *
 * The directories must not change while the reader is used (a snapshot no one writes yet).
 */
export class MergedReader {
  readonly #view: LowerView;

  constructor(mounts: readonly Mount[]) {
    this.#view = new LowerView(layerDirs(mounts));
  }

  /** The entry at `path` (absolute in the root), symlinks followed; undefined when there is none. */
  stat(path: string): BigIntStats | undefined {
    return this.#resolve(path, true)?.stats;
  }

  /** Whether something (not followed) is at `path`, its parents' symlinks followed. */
  exists(path: string): boolean {
    return this.#resolve(path, false) !== undefined;
  }

  /** The content of the regular file at `path`, or undefined when there is none. */
  readFile(path: string): Buffer | undefined {
    const found = this.#resolve(path, true);
    if (found === undefined || !found.stats.isFile()) return undefined;
    return readFileSync(join(found.layer, found.path));
  }

  #resolve(path: string, followLast: boolean): { stats: BigIntStats; layer: string; path: string } | undefined {
    const pending = path.split('/').filter((p) => p !== '' && p !== '.').reverse();
    const resolved: string[] = [];
    let links = 0;
    while (pending.length > 0) {
      const name = pending.pop()!;
      if (name === '..') {
        resolved.pop();
        continue;
      }
      const candidate = [...resolved, name].join('/');
      const entry = this.#view.lookup(candidate);
      if (entry === undefined) return undefined;
      const last = pending.length === 0;
      if (entry.stats.isSymbolicLink() && (!last || followLast)) {
        if (++links > MAX_LINKS) return undefined;
        const target = readlinkSync(join(entry.layer, candidate));
        if (target.startsWith('/')) resolved.length = 0;
        pending.push(...target.split('/').filter((p) => p !== '' && p !== '.').reverse());
        continue;
      }
      resolved.push(name);
      if (last) return { stats: entry.stats, layer: entry.layer, path: candidate };
    }
    // The root itself.
    const stats = this.#view.empty ? undefined : this.#view.lookup('')?.stats;
    return stats === undefined ? undefined : { stats, layer: '', path: '' };
  }
}

/** The directory a writable snapshot's changes go to: the overlay's upperdir, or the bind's directory. */
export function upperDirOf(mounts: readonly Mount[]): string | undefined {
  const [mount] = mounts;
  if (mount === undefined) return undefined;
  if (mount.type === 'bind') return mount.options.includes('ro') ? undefined : mount.source;
  return option(mount, 'upperdir');
}

/** Layer directories of the mounts, topmost first. */
function layerDirs(mounts: readonly Mount[]): string[] {
  const [mount] = mounts;
  if (mount === undefined) return [];
  if (mount.type === 'bind') return [mount.source];
  const upper = option(mount, 'upperdir');
  const lowers = option(mount, 'lowerdir')?.split(':') ?? [];
  return [...(upper === undefined ? [] : [upper]), ...lowers];
}

function option(mount: Mount, name: string): string | undefined {
  const prefix = `${name}=`;
  return mount.options.find((o) => o.startsWith(prefix))?.slice(prefix.length);
}
