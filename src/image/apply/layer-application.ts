import { randomBytes } from 'node:crypto';
import { chmodSync, closeSync, constants, fchmodSync, fchownSync, futimesSync, lchownSync, linkSync, lstatSync, lutimesSync, mkdirSync, openSync, renameSync, rmSync, symlinkSync, writeSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { InputError, InternalError } from '../../errors/index.ts';
import { lsetxattr, mknod, S_IFBLK, S_IFCHR, S_IFIFO } from '../../native/index.ts';
import { isOverlayXattr } from '../layer/index.ts';
import type { ApplyEntry, ApplyLayerOptions, ApplyLayerResult, SkippedEntry, UnsupportedPolicy } from './apply-layer.ts';
import { cleanEntryPath, resolveInRoot } from './safe-path.ts';
import { LayerPaths, parseWhiteoutName, removeFromLower, removeLowerChildren, type WhiteoutName } from './whiteout.ts';

/*
 * Each entry's metadata calls (mkdir, symlink, link, chown, chmod, utimes, lstat) and its
 * body's writes into the page cache are synchronous: an image's layer is mostly small entries
 * (busybox: 268 symlinks), and a round trip through libuv's thread pool per call cost ten times
 * the call. Removals of whole trees stay asynchronous.
 */

/**
 * The state of one layer application (apply-layer.ts `applyEntries`): counters, the paths this layer wrote, directory
 * times still to set. Entries go through {@link LayerApplication.apply} in tar order, then
 * {@link LayerApplication.finish} once; the instance is not reused.
 */
export class LayerApplication {
  readonly #root: string;
  readonly #policy: UnsupportedPolicy;
  readonly #signal: AbortSignal | undefined;
  readonly #literalNames: boolean;
  readonly #layer: LayerPaths;
  /** Real directories (not symlinks) seen in this application; cleared when one is removed. */
  readonly #knownDirs = new Set<string>();
  readonly #dirTimes: { readonly path: string; readonly mtime: number }[] = [];
  readonly #skipped: SkippedEntry[] = [];
  #files = 0;
  #directories = 0;
  #symlinks = 0;
  #hardlinks = 0;
  #fifos = 0;
  #devices = 0;
  #whiteouts = 0;
  #bytes = 0;

  constructor(root: string, options: ApplyLayerOptions) {
    this.#root = root;
    this.#policy = options.unsupported ?? 'fail';
    this.#signal = options.signal;
    this.#literalNames = options.whiteouts === 'literal';
    this.#layer = new LayerPaths(root);
  }

  /**
   * Applies one entry: a whiteout removes lower-layer content, anything else is created in
   * place of what is at its path. Reads a file entry's body to its end.
   *
   * @throws InputError naming the entry when it is hostile, malformed or unsupported.
   */
  async apply(entry: ApplyEntry): Promise<void> {
    const path = cleanEntryPath(entry.path);
    // The root itself (`./`): containerd applyNaive ignores it ("resolved to root").
    if (path === undefined) return;
    const slash = path.lastIndexOf('/');
    const parentPath = slash < 0 ? '' : path.slice(0, slash);
    const base = path.slice(slash + 1);

    const whiteout: WhiteoutName = this.#literalNames ? { kind: 'none' } : parseWhiteoutName(path);
    switch (whiteout.kind) {
      case 'meta':
        return;
      case 'opaque': {
        const dir = await resolveInRoot(this.#root, parentPath, this.#knownDirs);
        await removeLowerChildren(dir, this.#layer);
        this.#removed();
        this.#whiteouts += 1;
        return;
      }
      case 'whiteout': {
        // A whiteout whose directory is missing hides nothing; unlike containerd (mkparent) it
        // creates no directories.
        const dir = await resolveInRoot(this.#root, parentPath, this.#knownDirs);
        await removeFromLower(join(dir, whiteout.name), this.#layer);
        this.#removed();
        this.#whiteouts += 1;
        return;
      }
      case 'none':
        break;
      default:
        throw new InternalError(`unhandled whiteout kind ${(whiteout satisfies never) as string}`);
    }

    // Attributes overlayfs keeps its own state in are never set: on a tree that becomes an
    // overlay lower directory they would redirect or hide its content. Refused (or left out)
    // before anything is written.
    const xattrs = Object.entries(entry.xattrs ?? {});
    const overlay = xattrs.filter(([name]) => isOverlayXattr(name)).map(([name]) => name);
    if (overlay.length > 0) {
      this.#unsupported(path, 'xattrs', `extended attributes ${overlay.join(', ')} are overlayfs's own state, which a layer must not set`);
    }

    const parent = await resolveInRoot(this.#root, parentPath, this.#knownDirs);
    await this.#makeParents(parent, path);
    const dest = join(parent, base);
    switch (entry.type) {
      case 'file':
        await this.#writeFile(dest, entry);
        break;
      case 'dir':
        await this.#makeDirectory(dest, entry);
        break;
      case 'symlink':
        await this.#makeSymlink(dest, entry);
        break;
      case 'hardlink':
        await this.#makeHardlink(dest, entry);
        break;
      case 'fifo':
      case 'char':
      case 'block':
        if (!(await this.#makeNode(parent, dest, path, entry))) return;
        break;
      default:
        throw new InternalError(`unhandled entry type ${(entry.type satisfies never) as string}`);
    }
    this.#layer.add(dest);
    // After chown, which clears security.capability (capabilities(7)), as containerd's
    // createTarFile sets them after Lchown.
    this.#setXattrs(dest, path, xattrs.filter(([name]) => !isOverlayXattr(name)));
  }

  /**
   * Sets directory times, last because writing a child changes its directory's mtime
   * (containerd applyNaive defers them the same way).
   */
  async finish(): Promise<void> {
    for (const { path, mtime } of this.#dirTimes) {
      this.#signal?.throwIfAborted();
      // A later entry (or whiteout) of this layer may have replaced or removed the directory.
      const stats = lstatSync(path, { throwIfNoEntry: false });
      if (stats?.isDirectory() === true) lutimesSync(path, mtime, mtime);
    }
  }

  /** The counts so far (complete after {@link LayerApplication.finish}). */
  result(): ApplyLayerResult {
    return {
      files: this.#files,
      directories: this.#directories,
      symlinks: this.#symlinks,
      hardlinks: this.#hardlinks,
      fifos: this.#fifos,
      devices: this.#devices,
      whiteouts: this.#whiteouts,
      bytes: this.#bytes,
      skipped: [...this.#skipped],
    };
  }

  async #writeFile(dest: string, entry: ApplyEntry): Promise<void> {
    // O_EXCL: never write through what is at `dest` (a symlink above all), replace it.
    const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
    const fd = await this.#replacing(dest, () => openSync(dest, flags, 0o600));
    try {
      for await (const chunk of entry.body) {
        this.#signal?.throwIfAborted();
        // Into the page cache: a memory copy, cheaper than a round trip to the thread pool.
        for (let offset = 0; offset < chunk.byteLength; ) offset += writeSync(fd, chunk, offset, chunk.byteLength - offset);
        this.#bytes += chunk.byteLength;
      }
      // chown before chmod: chown(2) clears setuid and setgid bits.
      fchownSync(fd, entry.uid, entry.gid);
      fchmodSync(fd, entry.mode & 0o7777);
      futimesSync(fd, entry.mtime, entry.mtime);
    } finally {
      closeSync(fd);
    }
    this.#files += 1;
  }

  async #makeDirectory(dest: string, entry: ApplyEntry): Promise<void> {
    // An existing directory is merged with this one: only its metadata changes (layer.md).
    try {
      mkdirSync(dest, { mode: 0o700 });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      if (!(await this.#clear(dest, true))) mkdirSync(dest, { mode: 0o700 });
    }
    this.#knownDirs.add(dest);
    lchownSync(dest, entry.uid, entry.gid);
    // mkdir(2) applies the umask; chmod(2) sets the bits as the layer says.
    chmodSync(dest, entry.mode & 0o7777);
    this.#dirTimes.push({ path: dest, mtime: entry.mtime });
    this.#directories += 1;
  }

  async #makeSymlink(dest: string, entry: ApplyEntry): Promise<void> {
    if (entry.linkname === undefined || entry.linkname === '') {
      throw new InputError(`layer entry ${JSON.stringify(entry.path)}: symlink without a target`);
    }
    const linkname = entry.linkname;
    // The target is stored as written (absolute ones too, common in images); it is resolved
    // inside the root only when a later name goes through it.
    await this.#replacing(dest, () => symlinkSync(linkname, dest));
    lchownSync(dest, entry.uid, entry.gid);
    lutimesSync(dest, entry.mtime, entry.mtime);
    this.#symlinks += 1;
  }

  async #makeHardlink(dest: string, entry: ApplyEntry): Promise<void> {
    const name = JSON.stringify(entry.path);
    const linkname = entry.linkname ?? '';
    const targetPath = cleanEntryPath(linkname, entry.path);
    if (targetPath === undefined) throw new InputError(`layer entry ${name}: hard link to the root directory`);
    // Like containerd's hardlinkRootPath: symlinks in the target's parents resolve inside the
    // root; a symlink as the last component is linked itself (link(2) does not follow it).
    const slash = targetPath.lastIndexOf('/');
    const targetParent = await resolveInRoot(this.#root, slash < 0 ? '' : targetPath.slice(0, slash), this.#knownDirs);
    const target = join(targetParent, targetPath.slice(slash + 1));
    // Replacing `dest` would remove the target first (a link to itself, or into the tree it replaces).
    if (target === dest || target.startsWith(`${dest}/`)) {
      throw new InputError(`layer entry ${name}: hard link target ${JSON.stringify(linkname)} is the entry itself or below it`);
    }
    const stats = lstatSync(target, { throwIfNoEntry: false });
    if (stats === undefined) {
      throw new InputError(`layer entry ${name}: hard link target ${JSON.stringify(linkname)} does not exist in the root`, {
        hint: 'a hard link must name an entry of this layer written before it, or of a lower layer',
      });
    }
    if (stats.isDirectory()) {
      throw new InputError(`layer entry ${name}: hard link target ${JSON.stringify(linkname)} is a directory`);
    }
    await this.#replacing(dest, () => linkSync(target, dest));
    // containerd's createTarFile applies the link header's owner, mode and times to the (shared) inode.
    lchownSync(dest, entry.uid, entry.gid);
    if (!stats.isSymbolicLink()) chmodSync(dest, entry.mode & 0o7777);
    lutimesSync(dest, entry.mtime, entry.mtime);
    this.#hardlinks += 1;
  }

  /**
   * Creates a FIFO or device node with mknod(2); false when a device was skipped as
   * unsupported (no CAP_MKNOD: kiln not root, or in a user namespace, where containerd skips
   * devices too).
   */
  async #makeNode(parent: string, dest: string, path: string, entry: ApplyEntry): Promise<boolean> {
    const major = entry.devmajor ?? 0;
    const minor = entry.devminor ?? 0;
    const type = entry.type === 'char' ? S_IFCHR : entry.type === 'block' ? S_IFBLK : S_IFIFO;
    // Made under a fresh name and renamed into place, so a device mknod(2) refuses is found
    // out before the entry it would replace is removed. 0600 until chown and chmod.
    const scratch = join(parent, `.kiln-node-${randomBytes(8).toString('hex')}`);
    try {
      mknod(scratch, type | 0o600, major, minor);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EPERM' && (entry.type === 'char' || entry.type === 'block')) {
        const kind = entry.type === 'char' ? 'character' : 'block';
        this.#unsupported(path, entry.type, `${kind} device ${major}:${minor} needs CAP_MKNOD, which kiln runs without (mknod(2): EPERM)`);
        return false;
      }
      throw error;
    }
    try {
      await this.#clear(dest, false);
      renameSync(scratch, dest);
    } catch (error) {
      rmSync(scratch, { force: true });
      throw error;
    }
    lchownSync(dest, entry.uid, entry.gid);
    chmodSync(dest, entry.mode & 0o7777);
    lutimesSync(dest, entry.mtime, entry.mtime);
    if (entry.type === 'fifo') this.#fifos += 1;
    else this.#devices += 1;
    return true;
  }

  /**
   * Sets the entry's extended attributes on `dest` (lsetxattr(2): a symlink's own). One the
   * file system or kiln's privileges refuse (ENOTSUP, EPERM: a `user.` attribute of a symlink
   * or device, a `trusted.` one without CAP_SYS_ADMIN) is unsupported, as containerd ignores
   * ENOTSUP; a name or value the kernel finds malformed is an InputError naming the entry.
   */
  #setXattrs(dest: string, path: string, xattrs: ReadonlyArray<readonly [string, Buffer]>): void {
    const entry = `layer entry ${JSON.stringify(path)}`;
    const refused: string[] = [];
    for (const [name, value] of xattrs) {
      if (name === '' || name.includes('\0')) {
        throw new InputError(`${entry}: extended attribute name ${JSON.stringify(name)} is empty or holds a NUL`);
      }
      try {
        lsetxattr(dest, name, value);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        switch (code) {
          case 'EPERM':
          case 'ENOTSUP':
            refused.push(`${name} (${code})`);
            break;
          // A name over 255 bytes, a value over 64 KiB, a malformed name (xattr(7)).
          case 'ERANGE':
          case 'E2BIG':
          case 'EINVAL':
            throw new InputError(`${entry}: extended attribute ${name}: ${(error as Error).message}`, { cause: error });
          default:
            throw error;
        }
      }
    }
    if (refused.length > 0) {
      this.#unsupported(path, 'xattrs', `extended attributes ${refused.join(', ')} were refused by the file system or kiln's privileges`);
    }
  }

  /**
   * Makes the missing directories of `parent` (an absolute path inside the root whose
   * existing components resolveInRoot has proven real directories), 0755 and root-owned as
   * containerd's mkparent does when no lower layer has them.
   */
  async #makeParents(parent: string, path: string): Promise<void> {
    if (this.#knownDirs.has(parent) || parent === this.#root) return;
    let current = this.#root;
    for (const element of relative(this.#root, parent).split('/')) {
      current = join(current, element);
      if (this.#knownDirs.has(current)) continue;
      const stats = lstatSync(current, { throwIfNoEntry: false });
      if (stats === undefined) {
        mkdirSync(current, { mode: 0o755 });
        chmodSync(current, 0o755);
      } else if (!stats.isDirectory()) {
        throw new InputError(
          `layer entry ${JSON.stringify(path)}: parent ${JSON.stringify(relative(this.#root, current))} is not a directory`,
        );
      }
      this.#knownDirs.add(current);
    }
  }

  /**
   * Runs `create`, which makes `dest` and fails with EEXIST when something is there; then
   * removes that (as {@link #clear}) and runs it again. Trying first spares a lstat(2) per
   * entry in the common case, a path nothing occupies yet.
   */
  async #replacing<T>(dest: string, create: () => T): Promise<T> {
    try {
      return create();
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      await this.#clear(dest, false);
      return create();
    }
  }

  /**
   * Removes what is at `dest` so an entry can take its place (`rm -r`, a symlink unlinked,
   * never followed), except a directory when `keepDirectory`. True when a directory was kept.
   */
  async #clear(dest: string, keepDirectory: boolean): Promise<boolean> {
    const stats = lstatSync(dest, { throwIfNoEntry: false });
    if (stats === undefined) return false;
    if (stats.isDirectory()) {
      if (keepDirectory) return true;
      this.#removed();
    }
    await rm(dest, { recursive: true, force: true });
    return false;
  }

  /** Something was removed: directories proven earlier may be gone. */
  #removed(): void {
    this.#knownDirs.clear();
  }

  #unsupported(path: string, kind: SkippedEntry['kind'], reason: string): void {
    if (this.#policy === 'skip') {
      this.#skipped.push({ path, kind, reason });
      return;
    }
    throw new InputError(`layer entry ${JSON.stringify(path)}: cannot apply: ${reason}`, {
      hint: "apply with { unsupported: 'skip' } to leave such entries out and list them",
    });
  }
}
