import { addAbortSignal, Readable } from 'node:stream';
import { InputError, IntegrityError, InternalError, UsageError } from '../../errors/index.ts';
import { compareLayerPaths } from './compare-layer-paths.ts';
import type { LayerEntry, LayerEntryType } from './layer-entry.ts';
import { encodeHeader, END_OF_ARCHIVE, padding, TypeFlag, type HeaderFields } from './tar-header.ts';

/** Options of {@link writeLayerTar}. */
export interface WriteLayerTarOptions {
  readonly signal?: AbortSignal;
  /** SOURCE_DATE_EPOCH, in seconds since the Unix epoch. */
  readonly sourceDateEpoch?: number;
  /**
   * Lowers every mtime later than `sourceDateEpoch` to it and leaves earlier ones alone, as
   * BuildKit's `rewrite-timestamp=true` does (docs/build-repro.md), so files a build did not
   * touch keep their times. Requires `sourceDateEpoch`.
   */
  readonly rewriteTimestamp?: boolean;
}

/** Chunks below this are gathered into one before they go out: fewer, larger writes. */
const COALESCE_BYTES = 64 * 1024;

const TYPEFLAGS: Readonly<Record<LayerEntryType, number>> = {
  file: TypeFlag.file,
  dir: TypeFlag.dir,
  symlink: TypeFlag.symlink,
  hardlink: TypeFlag.hardlink,
  char: TypeFlag.char,
  block: TypeFlag.block,
  fifo: TypeFlag.fifo,
};

/**
 * Streams a layer tar (POSIX pax interchange format, headers as Go's archive/tar writes them
 * for containerd; see {@link encodeHeader}) from `entries`, which must come in layer order
 * ({@link compareLayerPaths}: a directory before its children, siblings by UTF-8 bytes) —
 * the writer does not sort, so a layer of any size streams in constant memory, and it checks
 * the order so a producer's bug cannot make a nondeterministic layer. Each file's `content`
 * is opened when the writer reaches it and closed before the next entry. The archive ends
 * with two zero blocks and no further padding, as Go's Writer.Close.
 *
 * The same entries and options give the same bytes. The stream fails with InputError naming
 * the entry for an entry that cannot be written (a bad path, a missing link target), with
 * InternalError for entries out of order or repeated, and with IntegrityError when a body's
 * length differs from its `size` (a file changed while being archived). Destroying the stream
 * or aborting `signal` closes the entry source and the open body.
 */
export function writeLayerTar(
  entries: AsyncIterable<LayerEntry> | Iterable<LayerEntry>,
  options: WriteLayerTarOptions = {},
): Readable {
  if (options.rewriteTimestamp === true && options.sourceDateEpoch === undefined) {
    throw new UsageError('rewrite-timestamp needs SOURCE_DATE_EPOCH', { hint: 'set sourceDateEpoch' });
  }
  options.signal?.throwIfAborted();
  const closed = new AbortController();
  const output = Readable.from(generate(entries, options, closed.signal), {
    objectMode: false,
    highWaterMark: COALESCE_BYTES,
  });
  output.on('close', () => closed.abort());
  return options.signal === undefined ? output : addAbortSignal(options.signal, output);
}

async function* generate(
  entries: AsyncIterable<LayerEntry> | Iterable<LayerEntry>,
  options: WriteLayerTarOptions,
  closed: AbortSignal,
): AsyncGenerator<Buffer> {
  const clampTo = options.rewriteTimestamp === true ? options.sourceDateEpoch : undefined;
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  const take = (): Buffer => {
    const chunk = pending.length === 1 ? pending[0]! : Buffer.concat(pending, pendingBytes);
    pending = [];
    pendingBytes = 0;
    return chunk;
  };
  let previous: string | undefined;
  for await (const entry of entries) {
    closed.throwIfAborted();
    const fields = headerFields(entry, clampTo);
    if (previous !== undefined && compareLayerPaths(previous, entry.path) >= 0) {
      throw new InternalError(`layer entries out of order: ${JSON.stringify(entry.path)} after ${JSON.stringify(previous)}`, {
        hint: 'sort entries with compareLayerPaths',
      });
    }
    previous = entry.path;
    pending.push(encodeHeader(fields));
    pendingBytes += pending[pending.length - 1]!.length;
    if (fields.size > 0) {
      if (entry.content === undefined) throw new InputError(`${entry.path}: a file of ${fields.size} bytes needs content`);
      const body = addAbortSignal(closed, entry.content());
      let written = 0;
      try {
        for await (const chunk of body as AsyncIterable<Buffer>) {
          written += chunk.length;
          if (written > fields.size) break;
          if (chunk.length >= COALESCE_BYTES) {
            // A large chunk goes out as it is: copying it into a batch costs more than it saves.
            if (pendingBytes > 0) yield take();
            yield chunk;
            continue;
          }
          pending.push(chunk);
          pendingBytes += chunk.length;
          if (pendingBytes >= COALESCE_BYTES) yield take();
        }
      } finally {
        body.destroy();
      }
      if (written !== fields.size) {
        throw new IntegrityError(`${entry.path}: expected ${fields.size} bytes, read ${written > fields.size ? 'more' : written}`, {
          hint: 'the file changed while the layer was written',
        });
      }
      const pad = padding(fields.size);
      if (pad.length > 0) {
        pending.push(pad);
        pendingBytes += pad.length;
      }
    }
    if (pendingBytes >= COALESCE_BYTES) yield take();
  }
  pending.push(END_OF_ARCHIVE);
  pendingBytes += END_OF_ARCHIVE.length;
  yield take();
}

function headerFields(entry: LayerEntry, clampTo: number | undefined): HeaderFields {
  const where = entry.path;
  checkPath(entry.path);
  const typeflag = TYPEFLAGS[entry.type];
  if (typeflag === undefined) throw new InputError(`${where}: unknown entry type ${JSON.stringify(entry.type)}`);
  if (!Number.isInteger(entry.mode) || entry.mode < 0 || entry.mode > 0o7777) {
    throw new InputError(`${where}: mode ${entry.mode} is not within 07777`);
  }
  for (const [name, id] of [
    ['uid', entry.uid],
    ['gid', entry.gid],
  ] as const) {
    if (!Number.isSafeInteger(id) || id < 0) throw new InputError(`${where}: ${name} ${id} is not a valid id`);
  }
  if (!Number.isFinite(entry.mtime)) throw new InputError(`${where}: mtime ${entry.mtime} is not a time`);
  // Whole seconds, as moby's FileInfoHeader truncates them; clamped as BuildKit does.
  let mtime = Math.floor(entry.mtime);
  if (clampTo !== undefined && mtime > clampTo) mtime = clampTo;

  const size = entry.size ?? 0;
  if (!Number.isSafeInteger(size) || size < 0) throw new InputError(`${where}: size ${size} is not a byte count`);
  if (size > 0 && entry.type !== 'file') throw new InputError(`${where}: a ${entry.type} entry has no body, size must be 0`);

  let linkname = '';
  if (entry.type === 'symlink' || entry.type === 'hardlink') {
    linkname = entry.linkname ?? '';
    if (linkname === '' || linkname.includes('\0')) throw new InputError(`${where}: a ${entry.type} needs a target`);
    if (entry.type === 'hardlink') checkPath(linkname);
  }
  let devmajor = 0;
  let devminor = 0;
  if (entry.type === 'char' || entry.type === 'block') {
    devmajor = entry.devmajor ?? -1;
    devminor = entry.devminor ?? -1;
    if (!Number.isInteger(devmajor) || devmajor < 0 || !Number.isInteger(devminor) || devminor < 0) {
      throw new InputError(`${where}: a ${entry.type} device needs devmajor and devminor`);
    }
  }
  return {
    // containerd and moby end directory names with "/" (canonicalTarName).
    name: entry.type === 'dir' ? `${entry.path}/` : entry.path,
    typeflag,
    mode: entry.mode,
    uid: entry.uid,
    gid: entry.gid,
    size,
    mtime,
    linkname,
    devmajor,
    devminor,
    xattrs: entry.xattrs,
  };
}

/** A layer path: relative, `/`-separated, no empty, `.` or `..` component, no NUL. */
function checkPath(path: string): void {
  if (path === '' || path.includes('\0')) throw new InputError(`layer path ${JSON.stringify(path)} is empty or holds NUL`);
  for (const part of path.split('/')) {
    if (part === '' || part === '.' || part === '..') {
      throw new InputError(`layer path ${JSON.stringify(path)} is not clean and relative`, {
        hint: 'use a/b, not /a/b, ./a/b, a//b or a/../b',
      });
    }
  }
}
