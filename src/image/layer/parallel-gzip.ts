import { InternalError, UsageError } from '../../errors/index.ts';
import { gzipMembers } from '../../native/index.ts';

/**
 * The input is compressed in pieces of this many bytes, each on its own. Part of the output's
 * identity: the same tar, level and piece size always give the same gzip bytes (and so the
 * same blob digest), so it is a constant, not a tuning knob. 1 MiB keeps a piece's round trip
 * to the thread pool (a few ms at level 1 here) long against its overhead, and the output
 * within 0.1% of 4 MiB pieces' on the W4 layer (no piece sees the ones before it: 38.42% of
 * the tar against 38.40%, 38.49% with 256 KiB pieces).
 */
export const GZIP_PIECE_BYTES = 1 << 20;

/** The smallest piece {@link parallelGzip} accepts: smaller ones would only cost ratio and round trips. */
const MIN_PIECE_BYTES = 64 * 1024;

/** Options of {@link parallelGzip}. */
export interface ParallelGzipOptions {
  /** gzip level 1–9. */
  readonly level: number;
  /** Bytes per piece; {@link GZIP_PIECE_BYTES} unless a test wants small pieces. */
  readonly pieceBytes?: number;
  /**
   * Pieces compressed at once on libuv's thread pool; by default as many as the pool has
   * threads (UV_THREADPOOL_SIZE, 4 unless set), even on fewer cores: a piece queued behind
   * each running one keeps the cores busy while this thread hands out results and cuts the
   * next piece (on this 2-core VM, the W4 layer's tar in 585 ms with 4, 640 with 3, 660 with
   * 2: medians of 5). It changes the speed, never the bytes.
   */
  readonly concurrency?: number;
  readonly signal?: AbortSignal;
}

/**
 * gzip (RFC 1952) with the compression spread over the cores: the input is cut into pieces of
 * {@link GZIP_PIECE_BYTES}, each compressed on libuv's thread pool into whole gzip members
 * ({@link gzipMembers}: libdeflate deflates the piece, but for runs of 16 KiB segments whose
 * bytes look random, which are stored as they are), and the members are written in input
 * order. Concatenated members are one gzip file (RFC 1952 §2.2, the layout bgzip writes):
 * gunzip, Node's zlib, Go's compress/gzip (the reader of Docker, containerd, skopeo and umoci)
 * and pigz read them as one stream. Text makes one member a piece; an empty input one member
 * of nothing, as a gzip file needs one.
 *
 * libdeflate has no streaming and no preset dictionary, so unlike pigz's pieces these share no
 * window and cannot be joined into one member: each piece starts its matches afresh. On the
 * W4 layer's tar (bench/gzip.ts: 326 MB, half source text, half random bytes) level 1 writes
 * 39.18% of the tar where Node's zlib at level 1 in pigz's layout (1 MiB pieces, each with the
 * 32 KiB before it as dictionary, sync-flushed into one member) wrote 39.42%, in 0.37× the CPU
 * time (1.05 s against 2.87 s) and 0.39× the wall time on 2 cores.
 *
 * The bytes depend only on the input, the level, the piece size and libdeflate's version: not
 * on how the input was chunked, on the concurrency or on timing. Every header has MTIME 0, no
 * name, XFL as zlib sets it for the level and OS 3 (Unix), as Node's createGzip writes it.
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
  if (!Number.isInteger(pieceBytes) || pieceBytes < MIN_PIECE_BYTES) throw new UsageError(`gzip piece size ${pieceBytes} is below ${MIN_PIECE_BYTES} bytes`);
  const concurrency = Math.max(1, options.concurrency ?? defaultConcurrency());
  signal?.throwIfAborted();
  const chunks = source[Symbol.asyncIterator]();
  try {
    yield* members(chunks, level, pieceBytes, concurrency, signal);
  } finally {
    // Also when the reader stopped before the source was read at all (a stream is destroyed).
    await chunks.return?.();
  }
}

/** The members of the pieces of `chunks`, in order. */
async function* members(chunks: AsyncIterator<Uint8Array>, level: number, pieceBytes: number, concurrency: number, signal: AbortSignal | undefined): AsyncGenerator<Buffer> {
  /** Pieces on the thread pool, in input order, each with the buffer it reads. */
  const pending: { readonly output: Promise<Buffer>; readonly input: Buffer }[] = [];
  /** Piece buffers whose compression has finished, to fill again: the input is copied once. */
  const free: Buffer[] = [];
  let piece: Buffer = Buffer.allocUnsafe(pieceBytes);
  let filled = 0;
  let sent = 0;
  const send = (): void => {
    const output = compressPiece(piece.subarray(0, filled), level);
    // Awaited in order below; one may fail while an earlier one is awaited.
    output.catch(() => undefined);
    // The buffer is written again only once its member is done (next() puts it back).
    pending.push({ output, input: piece });
    piece = free.pop() ?? Buffer.allocUnsafe(pieceBytes);
    filled = 0;
    sent++;
  };
  const next = async (): Promise<Buffer> => {
    const { output, input } = pending.shift()!;
    const member = await output;
    free.push(input);
    signal?.throwIfAborted();
    return member;
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
      send();
      while (pending.length >= concurrency) yield await next();
    }
  }
  // The last, partial piece; an empty input still needs one member (a gzip file has at least one).
  if (filled > 0 || sent === 0) send();
  while (pending.length > 0) yield await next();
}

/** The size of libuv's thread pool (UV_THREADPOOL_SIZE, default 4). */
function defaultConcurrency(): number {
  const pool = Number(process.env['UV_THREADPOOL_SIZE'] ?? '');
  return Number.isInteger(pool) && pool > 0 ? pool : 4;
}

async function compressPiece(input: Buffer, level: number): Promise<Buffer> {
  try {
    return await gzipMembers(input, level);
  } catch (error) {
    throw new InternalError(`gzip compression failed: ${(error as Error).message}`, { cause: error });
  }
}
