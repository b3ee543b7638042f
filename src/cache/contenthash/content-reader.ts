import { createHash } from 'node:crypto';
import { closeSync, constants, openSync, readSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import type { Digest } from '../../content/index.ts';
import { eventLoopTurns } from '../../image/layer/index.ts';
import { HashWorkers } from './hash-workers.ts';

/** Reads file contents for {@link checksumSources}; tests pass one that counts. */
export interface ContentReader {
  /** The sha256 of the regular file at `path` (an absolute host path), `size` bytes by its lstat. */
  digest(path: string, size: bigint, signal?: AbortSignal): Promise<Digest>;
}

/** Bytes read per call: small files take one read, big ones are streamed through this much. */
const CHUNK = 1 << 20;

/** One buffer for reads that complete without yielding to the event loop in between. */
const shared = Buffer.allocUnsafe(CHUNK);

/**
 * Reads with synchronous calls (faster than Node's async fs for many small files), a big
 * file in 1 MiB chunks with a turn of the event loop between them, so it is never whole in
 * memory and `signal` is served. Opens with O_NOFOLLOW: a path that became a symlink since
 * its lstat fails (ELOOP) rather than being read through.
 */
export const fileContentReader: ContentReader = {
  async digest(path: string, size: bigint, signal?: AbortSignal): Promise<Digest> {
    const hash = createHash('sha256');
    const fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW);
    try {
      if (size < BigInt(CHUNK)) {
        // Read to the end even so: the file may have grown since its lstat.
        for (let read = readSync(fd, shared, 0, CHUNK, null); read > 0; read = readSync(fd, shared, 0, CHUNK, null)) {
          hash.update(shared.subarray(0, read));
        }
      } else {
        const buffer = Buffer.allocUnsafe(CHUNK);
        const turn = eventLoopTurns();
        for (let read = readSync(fd, buffer, 0, CHUNK, null); read > 0; read = readSync(fd, buffer, 0, CHUNK, null)) {
          hash.update(buffer.subarray(0, read));
          const pause = turn();
          if (pause) await pause;
          signal?.throwIfAborted();
        }
      }
    } finally {
      closeSync(fd);
    }
    return `sha256:${hash.digest('hex')}` as Digest;
  },
};

/** Options of {@link poolingContentReader}, for tests. */
export interface PoolingOptions {
  /** The workers to hand files to (default: one pool shared by the process). */
  readonly workers?: HashWorkers;
  /** Bytes read inline before files go to workers (default 16 MiB). */
  readonly inlineBytes?: bigint;
  /** Files read inline before files go to workers (default 1,000). */
  readonly inlineFiles?: number;
}

let sharedWorkers: HashWorkers | undefined;

/** Work (in bytes hashed, see HashWorkers.backlog) the workers may have waiting before this thread helps. */
const MAX_BACKLOG = 16 << 20;

/**
 * A reader for one hashing job ({@link checksumSources} makes one per call): it reads like
 * {@link fileContentReader} until it has read 16 MiB or 1,000 files, then hands files to
 * {@link HashWorkers} (one pool for the process), so a cold context is read and hashed on other
 * cores while the caller walks on; when the workers are behind, it reads the file itself, so
 * that neither side waits for the other. A small job (a rebuild after an edit, a small context)
 * never waits for a worker to start; on a machine of one core everything is read inline.
 */
export function poolingContentReader(options: PoolingOptions = {}): ContentReader {
  // One core: a worker would only take turns with this thread, and add its messages.
  if (options.workers === undefined && availableParallelism() < 2) return fileContentReader;
  const inlineBytes = options.inlineBytes ?? 16n << 20n;
  const inlineFiles = options.inlineFiles ?? 1_000;
  let bytes = 0n;
  let files = 0;
  return {
    digest(path: string, size: bigint, signal?: AbortSignal): Promise<Digest> {
      if (bytes < inlineBytes && files < inlineFiles) {
        bytes += size;
        files += 1;
        return fileContentReader.digest(path, size, signal);
      }
      if (signal?.aborted === true) return Promise.reject(signal.reason);
      const workers = options.workers ?? (sharedWorkers ??= new HashWorkers());
      // Workers behind (or still starting): this thread reads the file itself meanwhile.
      if (workers.backlog >= MAX_BACKLOG) return fileContentReader.digest(path, size, signal);
      return workers.digest(path, size);
    },
  };
}
