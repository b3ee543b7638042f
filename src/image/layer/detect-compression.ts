import { addAbortSignal, Readable } from 'node:stream';
import type { Compression } from '../media-types.ts';

/** Magic numbers, longest first where one could prefix another. */
const MAGIC: ReadonlyArray<readonly [Compression, Uint8Array]> = [
  // xz file format 1.1.0 §2.1.1.1: FD 37 7A 58 5A 00.
  ['xz', Uint8Array.of(0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00)],
  // RFC 8878 §3.1.1: the zstd frame magic 0xFD2FB528, little-endian.
  ['zstd', Uint8Array.of(0x28, 0xb5, 0x2f, 0xfd)],
  // bzip2: "BZh" then the block size digit '1'…'9'.
  ['bzip2', Uint8Array.of(0x42, 0x5a, 0x68)],
  // RFC 1952 §2.3.1: ID1 ID2 = 1F 8B.
  ['gzip', Uint8Array.of(0x1f, 0x8b)],
];

/** How many leading bytes {@link detectCompression} needs to decide. */
export const MAGIC_LENGTH = 6;

/**
 * The compression of a blob judged by its first bytes (at least {@link MAGIC_LENGTH} of them
 * when the blob is that long): gzip, zstd, bzip2 or xz by magic number, otherwise
 * `uncompressed` — a tar's first block starts with a file name, which none of the magics
 * can begin as a printable path. Too few bytes count as uncompressed (an empty layer).
 */
export function detectCompression(firstBytes: Uint8Array): Compression {
  for (const [compression, magic] of MAGIC) {
    if (firstBytes.length < magic.length) continue;
    let match = true;
    for (let i = 0; i < magic.length; i++) {
      if (firstBytes[i] !== magic[i]) {
        match = false;
        break;
      }
    }
    if (match) return compression;
  }
  return 'uncompressed';
}

/** A stream whose compression was detected, with the peeked bytes put back in front. */
export interface SniffedStream {
  readonly compression: Compression;
  /** Every byte of the source, the peeked ones included. */
  readonly stream: Readable;
}

/**
 * Reads the first bytes of `source` to detect its compression ({@link detectCompression}),
 * and returns a stream of the whole source. The source is consumed through the returned
 * stream only; destroying that stream, or aborting `signal`, closes the source.
 */
export async function sniffCompression(
  source: AsyncIterable<Uint8Array>,
  options: { readonly signal?: AbortSignal } = {},
): Promise<SniffedStream> {
  options.signal?.throwIfAborted();
  const iterator = source[Symbol.asyncIterator]();
  const head: Buffer[] = [];
  let length = 0;
  let done = false;
  while (length < MAGIC_LENGTH) {
    const next = await iterator.next();
    if (next.done === true) {
      done = true;
      break;
    }
    const chunk = Buffer.from(next.value.buffer, next.value.byteOffset, next.value.byteLength);
    head.push(chunk);
    length += chunk.length;
  }
  const first = Buffer.concat(head);
  async function* replay(): AsyncGenerator<Buffer> {
    try {
      if (first.length > 0) yield first;
      while (!done) {
        const next = await iterator.next();
        if (next.done === true) return;
        yield Buffer.from(next.value.buffer, next.value.byteOffset, next.value.byteLength);
      }
    } finally {
      // Closing early (the reader destroyed the stream) closes the source too.
      await iterator.return?.();
    }
  }
  const stream = Readable.from(replay(), { objectMode: false });
  const signal = options.signal;
  return { compression: detectCompression(first), stream: signal === undefined ? stream : addAbortSignal(signal, stream) };
}
