import { Readable } from 'node:stream';
import { addAbortSignal } from 'node:stream';
import { InternalError, KilnError, UsageError } from '../../errors/index.ts';
import type { Compression } from '../media-types.ts';
import { parallelGzip } from './parallel-gzip.ts';
import { pipeThrough } from './pipe-through.ts';
import { spawnFilter } from './process-filter.ts';

/** The compressions kiln writes layers in (image-spec media-types.md lists these three). */
export type WritableCompression = Extract<Compression, 'uncompressed' | 'gzip' | 'zstd'>;

/**
 * kiln's gzip level when none is asked for: 1 (zlib's Z_BEST_SPEED).
 *
 * BuildKit and containerd write layers with Go's `gzip.DefaultCompression`, level 6
 * (buildkit util/compression/gzip.go `gzipWriter`, containerd archive/compression
 * `CompressStream`); BuildKit's `compression-level=N` output option overrides it. kiln defaults
 * lower because import/save must keep within 0.8x of `tar -c | gzip -1`. Measured on a 1.14 GB
 * layer tar of /usr/share, /usr/bin, a python stdlib and node_modules (2-core VM, Node 20):
 * Node's zlib compresses at 105 MB/s at level 1 and 53-58 MB/s at level 6, the gzip(1) CLI at
 * 79 MB/s with -1 and 36-40 MB/s with -6; level 6 makes the blob only 5.7% smaller (41.1% of
 * the tar against 43.5%). Level 6 would reach 0.7x of `gzip -1`, level 1 reaches 1.3x. Pass
 * `level` for smaller blobs. Those rates were zlib's; layers are now compressed by libdeflate
 * ({@link parallelGzip}), whose level 1 writes a little less than zlib's in a third of the CPU
 * time (bench/gzip.ts).
 */
export const DEFAULT_GZIP_LEVEL = 1;

/** zstd's own default level (zstd(1): "default: 3"); containerd's klauspost encoder matches it. */
const DEFAULT_ZSTD_LEVEL = 3;

/** Options of {@link compress}. */
export interface CompressOptions {
  /** gzip 1–9 (default {@link DEFAULT_GZIP_LEVEL}), zstd 1–19 (default 3). */
  readonly level?: number;
  readonly signal?: AbortSignal;
}

/**
 * Compresses a stream. The output is deterministic for the same input, level and tool
 * version: gzip is members compressed in parallel on the thread pool, one after another
 * ({@link parallelGzip}: each with a header with MTIME 0, no FNAME and OS 3, RFC 1952 §2.3.1;
 * libdeflate's version is the tool version), zstd through the `zstd` CLI
 * (Debian package zstd) writes a single frame without the content size. The returned stream
 * owns the source: destroying it, an abort or any error destroys the source and the
 * compressor (the zstd process is killed).
 * @throws UsageError for a level out of range or a compression kiln does not write.
 */
export function compress(
  source: AsyncIterable<Uint8Array>,
  compression: WritableCompression,
  options: CompressOptions = {},
): Readable {
  options.signal?.throwIfAborted();
  switch (compression) {
    case 'uncompressed': {
      const stream = source instanceof Readable ? source : Readable.from(source, { objectMode: false });
      return options.signal === undefined ? stream : addAbortSignal(options.signal, stream);
    }
    case 'gzip': {
      const level = checkLevel('gzip', options.level ?? DEFAULT_GZIP_LEVEL, 1, 9);
      const gzip = parallelGzip(source, { level, ...(options.signal === undefined ? {} : { signal: options.signal }) });
      const stream = Readable.from(gzip, { objectMode: false });
      // Closing the generator closes a source it has begun to read; one never read is a
      // stream whose iterator does not exist yet, so it is destroyed here.
      if (source instanceof Readable) stream.once('close', () => source.destroy());
      return options.signal === undefined ? stream : addAbortSignal(options.signal, stream);
    }
    case 'zstd': {
      const level = checkLevel('zstd', options.level ?? DEFAULT_ZSTD_LEVEL, 1, 19);
      // zstd(1): -c to stdout, -q without progress, --no-progress for non-tty stderr.
      const zstd = spawnFilter({ command: 'zstd', args: [`-${level}`, '-c', '-q', '--no-progress'], debianPackage: 'zstd' });
      return pipeThrough(source, zstd, { signal: options.signal, mapError: compressorError });
    }
    default: {
      const unexpected: never = compression;
      throw new UsageError(`kiln does not write ${String(unexpected)} layers`, {
        hint: 'write gzip, zstd or uncompressed layers',
      });
    }
  }
}

function checkLevel(name: string, level: number, min: number, max: number): number {
  if (!Number.isInteger(level) || level < min || level > max) {
    throw new UsageError(`${name} compression level ${level} is out of range`, { hint: `use ${min}–${max}` });
  }
  return level;
}

function compressorError(error: Error): Error {
  if (error instanceof KilnError || error.name === 'AbortError') return error;
  return new InternalError(`compression failed: ${error.message}`, { cause: error });
}
