import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/**
 * Replaces `path` with `data` atomically: written to a temporary file beside it, fsynced,
 * then renamed over it (rename(2) is atomic within a file system), so a reader sees the old
 * content or the new, never a torn file, whatever is killed when. Makes the directory when
 * missing. src/store has the same for its records; the cache sits below the store and keeps
 * its own.
 *
 * With `sync: false` the data is not fsynced before the rename: after a crash the file may
 * hold the old content, the new, or a torn write of the new, which a format that checks
 * itself (the stat cache's) can tell from a whole one.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array, options: { readonly sync?: boolean } = {}): Promise<void> {
  const dir = dirname(path);
  await mkdir(dir, { recursive: true });
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const file = await open(tmp, 'wx', 0o600);
  try {
    await file.writeFile(data);
    if (options.sync !== false) await file.sync();
  } catch (error) {
    await file.close();
    await rm(tmp, { force: true });
    throw error;
  }
  await file.close();
  try {
    await rename(tmp, path);
  } catch (error) {
    await rm(tmp, { force: true });
    throw error;
  }
}
