import { createHash } from 'node:crypto';
import { closeSync, constants, openSync, readSync } from 'node:fs';
import type { Digest } from '../../content/index.ts';
import { eventLoopTurns } from '../../image/layer/index.ts';

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
          await turn();
          signal?.throwIfAborted();
        }
      }
    } finally {
      closeSync(fd);
    }
    return `sha256:${hash.digest('hex')}` as Digest;
  },
};
