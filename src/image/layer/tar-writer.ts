import { addAbortSignal, Readable } from 'node:stream';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { InputError, IntegrityError, InternalError, UsageError } from '../../errors/index.ts';
import { compareLayerPaths } from './compare-layer-paths.ts';
import type { LayerEntry, LayerEntryType } from './layer-entry.ts';
import { BLOCK_SIZE, encodeHeader, END_OF_ARCHIVE, padding, TypeFlag, writeSimpleHeader, type HeaderFields } from './tar-header.ts';

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

/**
 * The writer's output comes in chunks of this size: headers and small bodies are written
 * straight into one, so that each stage downstream (hashing, compression, the content store)
 * handles a few large chunks instead of two or three small ones per entry.
 */
const CHUNK_BYTES = 1 << 20;

/** Bodies of entries with `readInto` up to this size are read straight into the output chunk. */
const DIRECT_BODY_BYTES = 256 * 1024;

/**
 * Synchronous work (a synchronous entry source, bodies read in one call) gives the event loop
 * a turn at least this often, in milliseconds, so that timers, I/O and aborts are served.
 */
const SLICE_MS = 4;

/** A body chunk this large goes out as it is: copying it into a chunk costs more than it saves. */
const PASS_THROUGH_BYTES = 64 * 1024;

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
 * the order so a producer's bug cannot make a nondeterministic layer. A body of up to 256 KiB
 * whose entry has `readInto` is read with it straight into the output chunk, a larger one
 * whose entry has `readAt` likewise a chunk's room at a time; any other body through
 * `content`, opened when the writer reaches the entry and closed before the next one.
 * The archive ends with two zero blocks and no further padding, as Go's Writer.Close. The
 * output comes in chunks of up to 1 MiB (larger body chunks pass through as they are), and
 * memory holds about one chunk: a large body is streamed, never held whole.
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
    highWaterMark: PASS_THROUGH_BYTES,
  });
  output.on('close', () => closed.abort());
  return options.signal === undefined ? output : addAbortSignal(options.signal, output);
}

/**
 * The bytes {@link writeLayerTar} streams, as an async generator whose chunks live only until
 * the consumer asks for the next one: the writer then fills their buffers again. For a
 * consumer that is done with each chunk before it pulls the next (hashing it and writing it to
 * a file, awaiting the write), so that a layer of any size cycles through a few 1 MiB buffers
 * instead of leaving one to the garbage collector per MiB, which a build's peak memory shows.
 * Anything that keeps a chunk (a Readable's buffer, a compressor reading ahead) must copy it
 * or use writeLayerTar. Returning early or aborting `signal` closes the entry source and the
 * open body; errors are writeLayerTar's.
 */
export async function* layerTarChunks(
  entries: AsyncIterable<LayerEntry> | Iterable<LayerEntry>,
  options: WriteLayerTarOptions = {},
): AsyncGenerator<Buffer> {
  if (options.rewriteTimestamp === true && options.sourceDateEpoch === undefined) {
    throw new UsageError('rewrite-timestamp needs SOURCE_DATE_EPOCH', { hint: 'set sourceDateEpoch' });
  }
  options.signal?.throwIfAborted();
  const closed = new AbortController();
  const abort = (): void => closed.abort(options.signal?.reason);
  options.signal?.addEventListener('abort', abort, { once: true });
  try {
    yield* generate(entries, options, closed.signal, true);
  } finally {
    options.signal?.removeEventListener('abort', abort);
    closed.abort();
  }
}

/**
 * The archive's bytes, in chunks of up to {@link CHUNK_BYTES}. A synchronous `entries` is
 * pulled without a promise per entry; either way, every {@link SLICE_MS} of work what is ready
 * goes out and the event loop gets a turn (the walks that feed the writer, and the reads of
 * small bodies, are synchronous file-system calls: see entriesFromDirectory).
 */
async function* generate(
  entries: AsyncIterable<LayerEntry> | Iterable<LayerEntry>,
  options: WriteLayerTarOptions,
  closed: AbortSignal,
  recycle = false,
): AsyncGenerator<Buffer> {
  const clampTo = options.rewriteTimestamp === true ? options.sourceDateEpoch : undefined;
  const out = new ChunkWriter(recycle);
  /** Where a body read with readAt is asked for one byte past its size. */
  const probe = Buffer.alloc(1);
  let sliceStart = performance.now();
  const sync = Symbol.iterator in entries;
  const iterator: Iterator<LayerEntry> | AsyncIterator<LayerEntry> = sync
    ? (entries as Iterable<LayerEntry>)[Symbol.iterator]()
    : (entries as AsyncIterable<LayerEntry>)[Symbol.asyncIterator]();
  let finished = false;
  let previous: string | undefined;
  try {
    for (;;) {
      const next = sync ? (iterator as Iterator<LayerEntry>).next() : await iterator.next();
      if (next.done === true) break;
      const entry = next.value;
      closed.throwIfAborted();
      const fields = headerFields(entry, clampTo);
      if (previous !== undefined && compareLayerPaths(previous, entry.path) >= 0) {
        throw new InternalError(`layer entries out of order: ${JSON.stringify(entry.path)} after ${JSON.stringify(previous)}`, {
          hint: 'sort entries with compareLayerPaths',
        });
      }
      previous = entry.path;
      const size = fields.size;
      if (size > 0 && entry.content === undefined) throw new InputError(`${entry.path}: a file of ${size} bytes needs content`);
      if (size > 0 && size <= DIRECT_BODY_BYTES && entry.readInto !== undefined) {
        writeDirect(out, entry, fields, entry.readInto);
      } else if (size > 0 && entry.readAt !== undefined) {
        // A larger body read straight into the output chunks, a chunk's room per call.
        out.header(fields);
        for (let position = 0; position < size; ) {
          const want = Math.min(size - position, CHUNK_BYTES);
          // Little room left: a fresh chunk rather than a sliver of a read.
          const at = out.reserve(out.room() >= Math.min(want, PASS_THROUGH_BYTES) ? Math.min(want, out.room()) : want);
          const length = Math.min(want, out.buffer.length - at);
          const read = entry.readAt(out.buffer, at, length, position);
          if (read !== length) throw bodyLengthError(entry.path, size, position + read);
          out.commit(at + length);
          position += length;
          if (out.ready.length > 0) yield* out.drain();
          if (performance.now() - sliceStart > SLICE_MS) {
            out.cut();
            yield* out.drain();
            await nextTurn();
            sliceStart = performance.now();
            closed.throwIfAborted();
          }
        }
        if (entry.readAt(probe, 0, 1, size) !== 0) throw bodyLengthError(entry.path, size, size + 1);
        out.append(padding(size));
      } else {
        out.header(fields);
        if (size > 0) {
          const body = addAbortSignal(closed, entry.content!());
          let written = 0;
          try {
            for await (const chunk of body as AsyncIterable<Buffer>) {
              written += chunk.length;
              if (written > size) break;
              out.append(chunk);
              if (out.ready.length > 0) yield* out.drain();
            }
          } finally {
            body.destroy();
          }
          if (written !== size) throw bodyLengthError(entry.path, size, written);
          out.append(padding(size));
        }
      }
      // Out go full chunks, and what there is once the slice is over, with a turn of the event loop.
      const due = performance.now() - sliceStart > SLICE_MS;
      if (due) out.cut();
      if (out.ready.length > 0) yield* out.drain();
      if (due) {
        await nextTurn();
        sliceStart = performance.now();
      }
    }
    finished = true;
  } finally {
    if (!finished) await iterator.return?.();
  }
  out.append(END_OF_ARCHIVE);
  out.cut();
  yield* out.drain();
}

/** Writes the header and the body of a small entry into the output chunk, the body read in one call. */
function writeDirect(out: ChunkWriter, entry: LayerEntry, fields: HeaderFields, readInto: NonNullable<LayerEntry['readInto']>): void {
  const size = fields.size;
  const padded = Math.ceil(size / BLOCK_SIZE) * BLOCK_SIZE;
  // The header block, the padded body and one byte to see a body longer than `size`.
  const offset = out.reserve(BLOCK_SIZE + padded + 1);
  let bodyAt = offset + BLOCK_SIZE;
  if (!writeSimpleHeader(fields, out.buffer, offset)) {
    const header = encodeHeader(fields);
    if (header.length === BLOCK_SIZE) {
      out.buffer.set(header, offset);
    } else {
      // A PAX header: too irregular to place in advance, and rare.
      out.append(header);
      bodyAt = out.reserve(padded + 1);
    }
  }
  const target = out.buffer;
  const read = readInto(target, bodyAt, size + 1);
  if (read !== size) throw bodyLengthError(entry.path, size, read);
  target.fill(0, bodyAt + size, bodyAt + padded);
  out.commit(bodyAt + padded);
}

function bodyLengthError(path: string, size: number, read: number): IntegrityError {
  return new IntegrityError(`${path}: expected ${size} bytes, read ${read > size ? 'more' : read}`, {
    hint: 'the file changed while the layer was written',
  });
}

/**
 * Assembles output chunks: bytes are written into one large buffer, and each stretch of it
 * goes out as a chunk when the buffer is full (the next stretch starts a fresh one). Large
 * pieces pass through without a copy. With `recycle`, a full buffer is filled again once
 * every chunk cut from it has been handed out and the consumer has asked for more (see
 * {@link layerTarChunks}); otherwise each buffer is left to its chunks' holders.
 */
class ChunkWriter {
  buffer: Buffer = Buffer.allocUnsafe(CHUNK_BYTES);
  /** Where the bytes not yet handed out begin, and where they end. */
  #start = 0;
  #end = 0;
  /** Chunks ready to go out, in order. */
  ready: Buffer[] = [];
  readonly #recycle: boolean;
  /** Full buffers whose last chunks may not have been consumed yet. */
  #retired: Buffer[] = [];
  /** Buffers whose chunks have all been consumed: filled again before any new one is made. */
  readonly #free: Buffer[] = [];

  constructor(recycle: boolean) {
    this.#recycle = recycle;
  }

  /**
   * Room for `length` contiguous bytes of `buffer` (starting a new buffer when the current one
   * has too little): returns the offset where they start, for the caller to fill and then
   * {@link commit}.
   */
  reserve(length: number): number {
    if (this.buffer.length - this.#end < length) {
      this.cut();
      if (this.#recycle && this.buffer.length === CHUNK_BYTES) this.#retired.push(this.buffer);
      this.buffer = (length <= CHUNK_BYTES ? this.#free.pop() : undefined) ?? Buffer.allocUnsafe(Math.max(CHUNK_BYTES, length));
      this.#start = 0;
      this.#end = 0;
    }
    return this.#end;
  }

  /** Bytes left in `buffer` after what was written. */
  room(): number {
    return this.buffer.length - this.#end;
  }

  /** Marks the buffer filled up to `end` (an offset {@link reserve} gave, plus what was written). */
  commit(end: number): void {
    this.#end = end;
    if (this.#end === this.buffer.length) this.cut();
  }

  /** Writes an entry's header blocks. */
  header(fields: HeaderFields): void {
    const offset = this.reserve(BLOCK_SIZE);
    if (writeSimpleHeader(fields, this.buffer, offset)) this.commit(offset + BLOCK_SIZE);
    else this.append(encodeHeader(fields));
  }

  /** Appends `bytes`: copied, or passed through as a chunk of their own when large. */
  append(bytes: Buffer): void {
    if (bytes.length >= PASS_THROUGH_BYTES) {
      this.cut();
      this.ready.push(bytes);
      return;
    }
    const offset = this.reserve(bytes.length);
    this.buffer.set(bytes, offset);
    this.commit(offset + bytes.length);
  }

  /** Hands out what was written since the last cut as a chunk. */
  cut(): void {
    if (this.#end === this.#start) return;
    this.ready.push(this.buffer.subarray(this.#start, this.#end));
    this.#start = this.#end;
  }

  /**
   * Yields the chunks ready to go out (the writer keeps none of them). When the consumer asks
   * for more after the last, every chunk handed out so far is done with: with `recycle`, the
   * full buffers they came from are free to fill again.
   */
  *drain(): Generator<Buffer> {
    const ready = this.ready;
    this.ready = [];
    // A loop, not `yield* ready`: an array's iterator has no throw(), which a consumer
    // failing the generator (a destroyed stream) calls through this delegation.
    for (const chunk of ready) yield chunk;
    if (this.#recycle && this.#retired.length > 0) {
      this.#free.push(...this.#retired);
      this.#retired = [];
    }
  }
}

function headerFields(entry: LayerEntry, clampTo: number | undefined): HeaderFields {
  const where = entry.path;
  checkPath(entry.path);
  const typeflag = TYPEFLAGS[entry.type];
  if (typeflag === undefined) throw new InputError(`${where}: unknown entry type ${JSON.stringify(entry.type)}`);
  if (!Number.isInteger(entry.mode) || entry.mode < 0 || entry.mode > 0o7777) {
    throw new InputError(`${where}: mode ${entry.mode} is not within 07777`);
  }
  checkId(where, 'uid', entry.uid);
  checkId(where, 'gid', entry.gid);
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

function checkId(where: string, name: string, id: number): void {
  if (!Number.isSafeInteger(id) || id < 0) throw new InputError(`${where}: ${name} ${id} is not a valid id`);
}

/** A layer path: relative, `/`-separated, no empty, `.` or `..` component, no NUL. */
function checkPath(path: string): void {
  if (path === '' || path.includes('\0')) throw new InputError(`layer path ${JSON.stringify(path)} is empty or holds NUL`);
  for (let start = 0; ; ) {
    const slash = path.indexOf('/', start);
    const end = slash === -1 ? path.length : slash;
    const dots = end - start <= 2 && path.charCodeAt(start) === DOT && (end - start === 1 || path.charCodeAt(start + 1) === DOT);
    if (end === start || dots) {
      throw new InputError(`layer path ${JSON.stringify(path)} is not clean and relative`, {
        hint: 'use a/b, not /a/b, ./a/b, a//b or a/../b',
      });
    }
    if (slash === -1) return;
    start = slash + 1;
  }
}

const DOT = 0x2e;
