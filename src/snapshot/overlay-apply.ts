import { lstatSync, mkdirSync, readlinkSync, type BigIntStats } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { InputError } from '../errors/index.ts';
import { applyEntries, cleanEntryPath, type ApplyEntry, type ApplyLayerResult } from '../image/apply/index.ts';
import { OPAQUE_WHITEOUT, parseWhiteout, readLayerTar, WHITEOUT_PREFIX } from '../image/layer/index.ts';
import { lsetxattr, mknod, S_IFCHR } from '../native/index.ts';
import { copyEntry, copyMetadata, setTimes } from './copy-tree.ts';
import type { LowerView } from './lower-view.ts';

/** Options of {@link applyOverlayLayer}. */
export interface ApplyOverlayOptions {
  readonly signal?: AbortSignal;
  /** Names the layer in errors. */
  readonly name?: string;
}

/** The most symlinks one resolution follows (continuity's RootPath, as src/image/apply). */
const MAX_SYMLINKS = 255;

/**
 * Applies a layer tar into `upper`, a fresh overlay upper directory over the layers `lowers`,
 * so that overlayfs mounting them shows what src/image/apply's applyLayer would make of the
 * merged tree — without mounting (containerd's overlay apply: archive.Apply with
 * OverlayConvertWhiteout and WithParents):
 *
 * - entries go through applyLayer's own applier (applyEntries), with the same safety rules;
 *   their names are first resolved through the merged tree, so a symlink of a lower layer
 *   in a parent directory is followed as on the merged tree, never replaced by a directory;
 * - a parent directory only a lower layer holds is made in `upper` with that directory's owner,
 *   mode, attributes and mtime (containerd's mkparent), so the merged directory keeps them;
 * - a hard link to a file of a lower layer copies that file up first, as overlayfs does;
 * - `.wh.<name>` becomes a whiteout (character device 0:0) where a lower layer shows `<name>`,
 *   or marks the directory the layer puts there opaque; `.wh..wh..opq` sets
 *   `trusted.overlay.opaque=y` on its directory (overlayfs(5)). Both take effect once every
 *   entry is written, but hide the lower layers from the resolution of later names at once,
 *   as the applier removes lower content when it meets the marker.
 *
 * A layer's own character device 0:0 is a whiteout to overlayfs, as with containerd.
 * @throws as applyLayer (InputError for a hostile or malformed entry, IntegrityError for a
 * truncated tar).
 */
export async function applyOverlayLayer(
  upper: string,
  lowers: LowerView,
  layer: Readable,
  options: ApplyOverlayOptions = {},
): Promise<ApplyLayerResult> {
  const application = new OverlayApplication(upper, lowers);
  try {
    const entries = readLayerTar(layer, { signal: options.signal, name: options.name });
    const result = await applyEntries(upper, application.translate(entries), { signal: options.signal });
    const whiteouts = await application.finish();
    return { ...result, whiteouts: result.whiteouts + whiteouts };
  } finally {
    layer.destroy();
  }
}

class OverlayApplication {
  readonly #upper: string;
  readonly #lowers: LowerView;
  /** Paths this layer whites out, and directories it makes opaque (resolved). */
  readonly #whiteouts: string[] = [];
  readonly #opaques: string[] = [];
  readonly #hidden = new Set<string>();
  readonly #opaque = new Set<string>();
  /** Directories made here from a lower layer's, whose mtime is set last. */
  readonly #madeDirs = new Map<string, BigIntStats>();

  constructor(upper: string, lowers: LowerView) {
    this.#upper = upper;
    this.#lowers = lowers;
  }

  /** The layer's entries as the applier gets them: names resolved, whiteouts held back. */
  async *translate<E extends ApplyEntry>(entries: AsyncIterable<E>): AsyncGenerator<E> {
    for await (const entry of entries) {
      const path = cleanEntryPath(entry.path);
      const base = path?.slice(path.lastIndexOf('/') + 1);
      // The root, and AUFS metadata (`.wh..wh.*`), which the applier ignores.
      const meta = `${WHITEOUT_PREFIX}${WHITEOUT_PREFIX}`;
      if (path === undefined || base === undefined || (path !== OPAQUE_WHITEOUT && path.startsWith(meta)) || (base.startsWith(meta) && base !== OPAQUE_WHITEOUT)) {
        yield entry;
        continue;
      }
      const whiteout = parseWhiteout(path);
      if (whiteout?.kind === 'whiteout') {
        const slash = whiteout.target.lastIndexOf('/');
        const name = whiteout.target.slice(slash + 1);
        if (name === '' || name === '.' || name === '..') throw new InputError(`layer entry ${JSON.stringify(entry.path)}: invalid whiteout name`);
        const target = join2(this.#resolve(slash < 0 ? '' : whiteout.target.slice(0, slash), entry.path), name);
        this.#whiteouts.push(target);
        this.#hidden.add(target);
        continue;
      }
      if (whiteout?.kind === 'opaque') {
        const dir = this.#resolve(whiteout.dir, entry.path);
        this.#opaques.push(dir);
        this.#opaque.add(dir);
        continue;
      }
      const slash = path.lastIndexOf('/');
      const parent = this.#resolve(slash < 0 ? '' : path.slice(0, slash), entry.path);
      this.#makeParents(parent, entry.path);
      const resolved = join2(parent, path.slice(slash + 1));
      if (entry.type === 'dir') this.#madeDirs.delete(resolved);
      const linkname = entry.type === 'hardlink' ? await this.#linkTarget(entry.linkname ?? '', entry.path) : entry.linkname;
      yield { ...entry, path: resolved, linkname };
    }
  }

  /** Writes the whiteouts and opaque marks, then the times of the directories made here. */
  async finish(): Promise<number> {
    let count = 0;
    for (const target of this.#whiteouts) {
      if (this.#hiddenAbove(target)) continue;
      const there = this.#upperStats(target);
      if (there !== undefined) {
        // The layer put a directory where it deleted one: only its own content shows.
        if (there.isDirectory() && this.#lowers.isDirectory(target)) this.#markOpaque(target);
        count += 1;
        continue;
      }
      if (this.#lowers.lookup(target) === undefined) continue;
      const slash = target.lastIndexOf('/');
      const parent = slash < 0 ? '' : target.slice(0, slash);
      this.#makeParents(parent, target);
      const parentPath = join(this.#upper, parent);
      const parentStats = lstatSync(parentPath, { bigint: true });
      mknod(join(this.#upper, target), S_IFCHR, 0, 0);
      setTimes(parentPath, parentStats);
      count += 1;
    }
    for (const dir of this.#opaques) {
      if (this.#hiddenAbove(dir) || !this.#lowers.isDirectory(dir)) continue;
      if (this.#upperStats(dir) === undefined) this.#makeParents(dir, dir);
      this.#markOpaque(dir);
      count += 1;
    }
    for (const [dir, stats] of this.#madeDirs) {
      if (this.#upperStats(dir)?.isDirectory() === true) setTimes(join(this.#upper, dir), stats);
    }
    return count;
  }

  #markOpaque(dir: string): void {
    lsetxattr(join(this.#upper, dir), 'trusted.overlay.opaque', Buffer.from('y'));
  }

  /** Whether a whiteout or opaque marker of this layer hides the lower layers at `path`. */
  #isHidden(path: string): boolean {
    return this.#hidden.has(path) || this.#hiddenAbove(path);
  }

  /** Whether one hides them at a directory above `path`. */
  #hiddenAbove(path: string): boolean {
    if (path === '') return false;
    for (let slash = path.lastIndexOf('/'); ; slash = path.lastIndexOf('/', slash - 1)) {
      const dir = slash < 0 ? '' : path.slice(0, slash);
      if (this.#opaque.has(dir) || (dir !== '' && this.#hidden.has(dir))) return true;
      if (slash < 0) return false;
    }
  }

  #upperStats(path: string): BigIntStats | undefined {
    try {
      return lstatSync(join(this.#upper, path), { bigint: true, throwIfNoEntry: false });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOTDIR') return undefined;
      throw error;
    }
  }

  /** What the merged tree shows at `path` now: `upper` first, then the lower layers. */
  #lookup(path: string): { readonly stats: BigIntStats; readonly absolute: string } | undefined {
    const stats = this.#upperStats(path);
    if (stats !== undefined) return { stats, absolute: join(this.#upper, path) };
    if (this.#isHidden(path)) return undefined;
    const lower = this.#lowers.lookup(path);
    return lower === undefined ? undefined : { stats: lower.stats, absolute: join(lower.layer, path) };
  }

  /**
   * `path` with every symlink on the way followed through the merged tree, as if its root were
   * `/` (safe-path.ts's rule: an absolute target restarts at the root, `..` stays there); the
   * components that exist nowhere are kept as written.
   */
  #resolve(path: string, entry: string): string {
    const pending = path.split('/').reverse();
    const resolved: string[] = [];
    let links = 0;
    let missing = false;
    for (let element = pending.pop(); element !== undefined; element = pending.pop()) {
      if (element === '' || element === '.') continue;
      if (element === '..') {
        resolved.pop();
        missing = false;
        continue;
      }
      const next = join2(resolved.join('/'), element);
      const found = missing ? undefined : this.#lookup(next);
      if (found === undefined) {
        missing = true;
      } else if (found.stats.isSymbolicLink()) {
        if (++links > MAX_SYMLINKS) throw new InputError(`layer entry ${JSON.stringify(entry)}: too many levels of symbolic links`);
        const target = readlinkSync(found.absolute);
        if (target.startsWith('/')) resolved.length = 0;
        pending.push(...target.split('/').reverse());
        continue;
      } else if (!found.stats.isDirectory()) {
        throw new InputError(`layer entry ${JSON.stringify(entry)}: parent ${JSON.stringify(next)} is not a directory`);
      }
      resolved.push(element);
    }
    return resolved.join('/');
  }

  /**
   * Makes in `upper` the directories of `dir` (resolved) that only a lower layer holds, with
   * that layer's metadata; stops at the first that exists nowhere (the applier makes the rest).
   */
  #makeParents(dir: string, entry: string): void {
    if (dir === '') return;
    const parts = dir.split('/');
    for (let i = 1; i <= parts.length; i++) {
      const prefix = parts.slice(0, i).join('/');
      const there = this.#upperStats(prefix);
      if (there !== undefined) {
        if (!there.isDirectory()) throw new InputError(`layer entry ${JSON.stringify(entry)}: parent ${JSON.stringify(prefix)} is not a directory`);
        continue;
      }
      const lower = this.#isHidden(prefix) ? undefined : this.#lowers.lookup(prefix);
      if (lower === undefined || !lower.stats.isDirectory()) return;
      const absolute = join(this.#upper, prefix);
      mkdirSync(absolute, { mode: 0o700 });
      copyMetadata(join(lower.layer, prefix), absolute, lower.stats, false);
      this.#madeDirs.set(prefix, lower.stats);
    }
  }

  /** A hard link's target, resolved; a file only a lower layer holds is copied up first. */
  async #linkTarget(linkname: string, entry: string): Promise<string> {
    const target = cleanEntryPath(linkname, entry);
    if (target === undefined) return linkname;
    const slash = target.lastIndexOf('/');
    const parent = this.#resolve(slash < 0 ? '' : target.slice(0, slash), entry);
    const resolved = join2(parent, target.slice(slash + 1));
    if (this.#upperStats(resolved) !== undefined || this.#isHidden(resolved)) return resolved;
    const lower = this.#lowers.lookup(resolved);
    if (lower === undefined || lower.stats.isDirectory()) return resolved;
    this.#makeParents(parent, entry);
    await copyEntry(join(lower.layer, resolved), join(this.#upper, resolved), lower.stats);
    return resolved;
  }
}

function join2(dir: string, name: string): string {
  return dir === '' ? name : `${dir}/${name}`;
}
