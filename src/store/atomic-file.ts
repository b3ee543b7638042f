import { randomBytes } from 'node:crypto';
import { closeSync, fsync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { promisify } from 'node:util';

const fsyncAsync = promisify(fsync);
import { basename, dirname, join } from 'node:path';

/**
 * Replaces `path` with `data` atomically: written to a temporary file in the same
 * directory, fsynced, then renamed over the target, so a reader sees the old content or
 * the new, never a torn file, whatever is killed when.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  // Small documents: synchronous calls (a tenth of a thread-pool round trip each), but the
  // fsync, which may wait for the disk, off the event loop.
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const fd = openSync(tmp, 'wx', 0o644);
  try {
    const bytes = typeof data === 'string' ? Buffer.from(data) : data;
    for (let offset = 0; offset < bytes.byteLength; ) offset += writeSync(fd, bytes, offset);
    await fsyncAsync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    renameSync(tmp, path);
  } catch (error) {
    rmSync(tmp, { force: true });
    throw error;
  }
}

/** The file's JSON, or undefined when the file does not exist. */
export async function readJsonIfExists(path: string): Promise<unknown> {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}
