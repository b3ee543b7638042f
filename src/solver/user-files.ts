import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { MergedReader } from '../snapshot/index.ts';

/**
 * A directory under `scratch` holding a file system's /etc/passwd and /etc/group (those it
 * has), read through `reader`: what the user database (src/solver/file resolveUser,
 * resolveChown) reads, without mounting the file system. Two small files: written with
 * synchronous calls.
 */
export async function userFiles(reader: MergedReader, scratch: string): Promise<string> {
  const root = join(scratch, 'userdb');
  mkdirSync(join(root, 'etc'), { recursive: true });
  for (const name of ['passwd', 'group']) {
    const data = reader.readFile(`/etc/${name}`);
    if (data !== undefined) writeFileSync(join(root, 'etc', name), data);
  }
  return root;
}
