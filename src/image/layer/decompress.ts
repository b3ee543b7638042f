import { addAbortSignal, Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { IntegrityError, KilnError } from '../../errors/index.ts';
import type { Compression } from '../media-types.ts';
import { pipeThrough } from './pipe-through.ts';
import { spawnFilter, type FilterCommand } from './process-filter.ts';

/** Options of {@link decompress}. */
export interface DecompressOptions {
  readonly signal?: AbortSignal;
  /** Names the blob in errors (a digest, a file). */
  readonly name?: string;
}

/** The CLIs that decompress what Node's zlib cannot, from their Debian packages. */
const TOOLS: Readonly<Record<'zstd' | 'bzip2' | 'xz', FilterCommand>> = {
  // zstd(1): -d decompress, -c to stdout, -q quiet.
  zstd: { command: 'zstd', args: ['-d', '-c', '-q', '--no-progress'], debianPackage: 'zstd' },
  // bzip2(1): -d decompress, -c to stdout (not -q: it hides why a file is corrupt);
  // concatenated streams are read whole.
  bzip2: { command: 'bzip2', args: ['-d', '-c'], debianPackage: 'bzip2' },
  // xz(1): -d decompress, -c to stdout, -q quiet, -T1: one thread keeps memory bounded.
  xz: { command: 'xz', args: ['-d', '-c', '-q', '-T1'], debianPackage: 'xz-utils' },
};

/**
 * Decompresses a stream: gzip through Node's zlib (concatenated members included, RFC 1952
 * §2.2), zstd, bzip2 and xz through their CLIs as child processes (stdin → stdout),
 * `uncompressed` as it is. The returned stream owns the source: destroying it, an abort or any
 * error destroys the source and the decompressor, killing the process.
 *
 * Corrupt or truncated data fails the stream with IntegrityError (the tool's stderr in the
 * message); a missing CLI with NotFoundError naming the Debian package; an error of the source
 * reaches the reader unchanged.
 */
export function decompress(
  source: AsyncIterable<Uint8Array>,
  compression: Compression,
  options: DecompressOptions = {},
): Readable {
  options.signal?.throwIfAborted();
  const name = options.name ?? 'layer blob';
  const mapError = (error: Error): Error => {
    if (error instanceof KilnError || error.name === 'AbortError') return error;
    return new IntegrityError(`${name}: corrupt ${compression} data: ${error.message}`, { cause: error });
  };
  switch (compression) {
    case 'uncompressed': {
      const stream = source instanceof Readable ? source : Readable.from(source, { objectMode: false });
      return options.signal === undefined ? stream : addAbortSignal(options.signal, stream);
    }
    case 'gzip':
      return pipeThrough(source, createGunzip({ chunkSize: 1 << 16 }), { signal: options.signal, mapError });
    case 'zstd':
    case 'bzip2':
    case 'xz':
      return pipeThrough(source, spawnFilter(TOOLS[compression]), { signal: options.signal, mapError });
    default: {
      const unexpected: never = compression;
      throw new IntegrityError(`${name}: unknown compression ${String(unexpected)}`);
    }
  }
}
