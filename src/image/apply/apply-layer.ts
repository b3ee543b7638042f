import { lstat, realpath } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { InputError, KilnError } from '../../errors/index.ts';
import { readLayerTar, type ReadLayerEntry } from '../layer/index.ts';
import { LayerApplication } from './layer-application.ts';

/**
 * What the applier does with what it cannot create where it runs: a device node without
 * CAP_MKNOD (kiln not root, or in a user namespace), an extended attribute the file system or
 * kiln's privileges refuse (ENOTSUP, EPERM: a `user.` one on a symlink, a `trusted.` one
 * without CAP_SYS_ADMIN), or one of overlayfs's own (`trusted.overlay.*`), which a layer never
 * sets. `fail` (the default) stops with an InputError naming the entry, `skip` leaves the
 * entry (or, for xattrs, just those attributes) out and lists it in
 * {@link ApplyLayerResult.skipped}.
 */
export type UnsupportedPolicy = 'fail' | 'skip';

/** Options of {@link applyLayer}. */
export interface ApplyLayerOptions {
  readonly unsupported?: UnsupportedPolicy;
  /** Stops the application between entries and between chunks of a file. */
  readonly signal?: AbortSignal;
  /** Names the layer in errors of the tar reader (a digest, a file name). */
  readonly name?: string;
  /**
   * `layer` (the default): `.wh.` names are whiteouts (image-spec layer.md). `literal`: they
   * are ordinary names, as moby's Untar (no whiteout converter) extracts an `ADD` archive.
   */
  readonly whiteouts?: 'layer' | 'literal';
}

/** The fields of a layer entry the applier reads: the layer module's reader yields them. */
export type ApplyEntry = Pick<
  ReadLayerEntry,
  'path' | 'type' | 'mode' | 'uid' | 'gid' | 'mtime' | 'linkname' | 'devmajor' | 'devminor' | 'xattrs'
> & {
  /** The content of a file entry (empty for other types), read at most once. */
  readonly body: AsyncIterable<Uint8Array>;
};

/** What was not applied under `unsupported: 'skip'`, by kind so callers need not read `reason`. */
export interface SkippedEntry {
  /** The entry's cleaned, root-relative path. */
  readonly path: string;
  readonly kind: 'char' | 'block' | 'xattrs';
  readonly reason: string;
}

/** Counts of one layer application. */
export interface ApplyLayerResult {
  readonly files: number;
  readonly directories: number;
  readonly symlinks: number;
  readonly hardlinks: number;
  readonly fifos: number;
  /** Character and block devices. */
  readonly devices: number;
  /** Whiteout and opaque markers applied. */
  readonly whiteouts: number;
  /** Bytes of file content written. */
  readonly bytes: number;
  readonly skipped: readonly SkippedEntry[];
}

/**
 * Applies one uncompressed layer tar on top of the tree in `targetDir`, following image-spec
 * layer.md "Applying Changesets": entries replace what is at their path ("Changeset over
 * existing files": a directory over a directory only takes its attributes), `.wh.<name>` removes `<name>` and `.wh..wh..opq`
 * empties its directory of lower-layer content, neither touching what this layer adds
 * wherever the marker sits in the tar. Applying a manifest's layers in order builds its root
 * filesystem.
 *
 * Nothing is written outside `targetDir`: names are confined by the rules in safe-path.ts
 * (a `..` above the root is refused, symlinks in parent directories resolve inside the root),
 * hard links must target an existing entry inside the root, and the last component of a name
 * is replaced, never written through. Ownership, mode (with setuid, setgid, sticky) and mtime
 * are applied after content, extended attributes after ownership (chown(2) clears
 * `security.capability`); directory mtimes at the end, once their children are written.
 * Devices and FIFOs are made with mknod(2) through the native addon (src/native).
 *
 * The tar is read as a stream and `layer` is destroyed when the application ends, whether it
 * succeeds or not. A failed application leaves `targetDir` partly applied; the caller owns it
 * and discards it.
 *
 * @throws InputError naming the entry for a hostile or malformed entry, or one kiln cannot
 * create under `unsupported: 'fail'`; IntegrityError when the tar is truncated; the abort
 * reason when `signal` aborts.
 */
export async function applyLayer(
  targetDir: string,
  layer: Readable,
  options: ApplyLayerOptions = {},
): Promise<ApplyLayerResult> {
  try {
    const entries = readLayerTar(layer, { signal: options.signal, name: options.name });
    return await applyEntries(targetDir, entries, options);
  } finally {
    layer.destroy();
  }
}

/**
 * {@link applyLayer} over entries already read, in order. A file's body is read to its end
 * before the next entry is requested; other bodies are left unread, which the layer module's
 * `readLayerTar` skips when it advances.
 */
export async function applyEntries(
  targetDir: string,
  entries: AsyncIterable<ApplyEntry> | Iterable<ApplyEntry>,
  options: ApplyLayerOptions = {},
): Promise<ApplyLayerResult> {
  options.signal?.throwIfAborted();
  // Symlinks above the target are the caller's business: resolve them once, so every path
  // the applier builds starts with the real root.
  const root = await realpath(targetDir).catch((error: NodeJS.ErrnoException) => {
    throw error.code === 'ENOENT' ? new InputError(`apply layer: ${targetDir} does not exist`, { cause: error }) : error;
  });
  if (!(await lstat(root)).isDirectory()) throw new InputError(`apply layer: ${targetDir} is not a directory`);
  const application = new LayerApplication(root, options);
  for await (const entry of entries) {
    options.signal?.throwIfAborted();
    try {
      await application.apply(entry);
    } catch (error) {
      throw entryError(entry.path, error);
    }
  }
  await application.finish();
  return application.result();
}

/** Errors a hostile entry makes the system report; anything else is the host's problem. */
const ENTRY_ERRNOS = new Set(['ELOOP', 'ENOTDIR', 'EISDIR', 'ENAMETOOLONG', 'EEXIST', 'EMLINK']);

function entryError(path: string, error: unknown): unknown {
  if (error instanceof KilnError || !(error instanceof Error)) return error;
  const code = (error as NodeJS.ErrnoException).code;
  if (code !== undefined && ENTRY_ERRNOS.has(code)) {
    return new InputError(`layer entry ${JSON.stringify(path)}: ${error.message}`, { cause: error });
  }
  return error;
}
