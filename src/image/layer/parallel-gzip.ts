import { constants, crc32, deflateRaw, type ZlibOptions } from 'node:zlib';
import { InternalError, UsageError } from '../../errors/index.ts';

/**
 * The input is deflated in pieces of this many bytes. Part of the output's identity: the same
 * tar, level and piece size always give the same gzip bytes (and so the same blob digest),
 * so it is a constant, not a tuning knob. 1 MiB keeps a piece's round trip to the thread
 * pool (about 8 ms at level 1 here) long against its overhead, and the ratio within 0.1% of
 * one stream's (each piece starts with the previous piece's last 32 KiB as its dictionary).
 */
export const GZIP_PIECE_BYTES = 1 << 20;

/** deflate's window, RFC 1951 §3.2.1: how far back a match may reach, so the dictionary a piece gets. */
const WINDOW_BYTES = 32 * 1024;

/** Options of {@link parallelGzip}. */
export interface ParallelGzipOptions {
  /** zlib level 1–9. */
  readonly level: number;
  /** Bytes per piece; {@link GZIP_PIECE_BYTES} unless a test wants small pieces. */
  readonly pieceBytes?: number;
  /**
   * Pieces deflated at once on libuv's thread pool; by default as many as the pool has threads
   * (UV_THREADPOOL_SIZE, 4 unless set), even on fewer cores: a piece queued behind each
   * running one keeps the cores busy while this thread hands out results and cuts the next
   * piece (on this 2-core VM, a W4 layer in 2.0-2.2 s with 4 against 2.5-4.0 s with 2). It
   * changes the speed, never the bytes.
   */
  readonly concurrency?: number;
  readonly signal?: AbortSignal;
}

/**
 * gzip (RFC 1952) with the deflate work spread over the cores, as pigz does it: the input is
 * cut into pieces of {@link GZIP_PIECE_BYTES}, each deflated as raw deflate (RFC 1951) on
 * libuv's thread pool (zlib's async deflateRaw) with the 32 KiB that precede it as its
 * dictionary, every piece but the last ended with a sync flush (an empty stored block, which
 * leaves the stream byte-aligned and not final), the last with Z_FINISH. Joined in order
 * behind one gzip header and followed by the CRC-32 of the whole input (computed here, as the
 * pieces are cut) and its length mod 2^32, they make one ordinary gzip member that any
 * gunzip reads.
 *
 * The bytes depend only on the input, the level and the piece size: not on how the input was
 * chunked, on the concurrency or on timing. The header has MTIME 0, no name, XFL as zlib sets
 * it for the level and OS 3 (Unix), as Node's createGzip writes it.
 *
 * Memory holds at most `concurrency` pieces with their output and one piece being filled.
 * Stopping early (the consumer returns, an error, `signal` aborting) closes `source`; pieces
 * already on the thread pool finish there and are dropped.
 * @throws UsageError for a level out of 1–9 or a piece size below 64 KiB.
 */
export async function* parallelGzip(source: AsyncIterable<Uint8Array>, options: ParallelGzipOptions): AsyncGenerator<Buffer> {
  const { level, signal } = options;
  const pieceBytes = options.pieceBytes ?? GZIP_PIECE_BYTES;
  if (!Number.isInteger(level) || level < 1 || level > 9) throw new UsageError(`gzip compression level ${level} is out of range`, { hint: 'use 1–9' });
  if (!Number.isInteger(pieceBytes) || pieceBytes < 2 * WINDOW_BYTES) throw new UsageError(`gzip piece size ${pieceBytes} is below ${2 * WINDOW_BYTES} bytes`);
  const concurrency = Math.max(1, options.concurrency ?? defaultConcurrency());
  signal?.throwIfAborted();
  const chunks = source[Symbol.asyncIterator]();
  try {
    yield gzipHeader(level);
    yield* pieces(chunks, level, pieceBytes, concurrency, signal);
  } finally {
    // Also when the reader stopped before the source was read at all (a stream is destroyed).
    await chunks.return?.();
  }
}

/** Everything after the header: the deflated pieces in order, then the trailer. */
async function* pieces(chunks: AsyncIterator<Uint8Array>, level: number, pieceBytes: number, concurrency: number, signal: AbortSignal | undefined): AsyncGenerator<Buffer> {
  /** Pieces on the thread pool, in input order, each with the buffer it reads. */
  const pending: { readonly output: Promise<Buffer>; readonly input: Buffer }[] = [];
  /** Piece buffers whose deflate has finished, to fill again: the input is never copied twice. */
  const free: Buffer[] = [];
  let crc = 0;
  let length = 0;
  let dictionary: Buffer | undefined;
  let piece: Buffer = Buffer.allocUnsafe(pieceBytes);
  let filled = 0;
  const send = (last: boolean): void => {
    const input = piece.subarray(0, filled);
    crc = crc32(input, crc);
    length += filled;
    // zlib copies the dictionary when the stream is made (node_zlib.cc Init), and a copy of
    // the piece's tail lets the piece go back to `free` as soon as its own deflate is done.
    const output = deflatePiece(input, level, dictionary, last);
    // Awaited in order below; one may fail while an earlier one is awaited.
    output.catch(() => undefined);
    pending.push({ output, input: piece });
    if (!last) {
      dictionary = Buffer.from(input.subarray(input.length - WINDOW_BYTES));
      piece = free.pop() ?? Buffer.allocUnsafe(pieceBytes);
    }
    filled = 0;
  };
  const next = async (): Promise<Buffer> => {
    const { output, input } = pending.shift()!;
    const out = await output;
    free.push(input);
    signal?.throwIfAborted();
    return out;
  };
  for (;;) {
    const read = await chunks.next();
    if (read.done === true) break;
    const chunk = read.value;
    signal?.throwIfAborted();
    let offset = 0;
    while (offset < chunk.length) {
      const n = Math.min(pieceBytes - filled, chunk.length - offset);
      piece.set(chunk.subarray(offset, offset + n), filled);
      filled += n;
      offset += n;
      if (filled < pieceBytes) break;
      send(false);
      while (pending.length >= concurrency) yield await next();
    }
  }
  // The last piece, empty when the input ended on a piece boundary (or was empty): its
  // Z_FINISH still writes the final block (two bytes for no input).
  send(true);
  while (pending.length > 0) yield await next();
  const trailer = Buffer.alloc(8);
  trailer.writeUInt32LE(crc >>> 0, 0);
  trailer.writeUInt32LE(length % 2 ** 32, 4);
  yield trailer;
}

/** The size of libuv's thread pool (UV_THREADPOOL_SIZE, default 4). */
function defaultConcurrency(): number {
  const pool = Number(process.env['UV_THREADPOOL_SIZE'] ?? '');
  return Number.isInteger(pool) && pool > 0 ? pool : 4;
}

/**
 * zlib's output buffer per piece (Node allocates one per stream, and another each time one
 * fills): a piece's ~0.4 MiB of output takes a few round trips, which the other pieces in
 * flight hide. Measured here against a buffer as large as the piece: the same time within
 * noise, with smaller allocations.
 */
const OUTPUT_CHUNK_BYTES = 128 * 1024;

/** Raw deflate of one piece on the thread pool: sync-flushed, or finished when `last`. */
function deflatePiece(input: Buffer, level: number, dictionary: Buffer | undefined, last: boolean): Promise<Buffer> {
  const options: ZlibOptions = {
    level,
    chunkSize: OUTPUT_CHUNK_BYTES,
    finishFlush: last ? constants.Z_FINISH : constants.Z_SYNC_FLUSH,
    ...(dictionary === undefined ? {} : { dictionary }),
  };
  return new Promise((resolve, reject) => {
    deflateRaw(input, options, (error, result) =>
      error === null ? resolve(result) : reject(new InternalError(`gzip compression failed: ${error.message}`, { cause: error })),
    );
  });
}

/**
 * RFC 1952 §2.3: ID1 ID2, CM 8 (deflate), no flags, MTIME 0 (no time: reproducible), XFL as
 * zlib's deflate.c sets it (2 for level 9, 4 for level 1, else 0), OS 3 (Unix).
 */
function gzipHeader(level: number): Buffer {
  const xfl = level === 9 ? 2 : level === 1 ? 4 : 0;
  return Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, xfl, 3]);
}
