import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../errors/index.ts';
import type { MergedReader } from '../snapshot/index.ts';
import { MAX_USER_FILE, type UserFiles } from './file/index.ts';

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

/**
 * A file system's /etc/passwd and /etc/group read through `reader`, for resolveUserIn: what
 * {@link userFiles} writes out, without writing it (a RUN resolves its user so).
 */
export function userFilesIn(reader: MergedReader): UserFiles {
  const read = (file: string): string | undefined => {
    const stats = reader.stat(file);
    if (stats === undefined || !stats.isFile()) return undefined;
    if (stats.size > BigInt(MAX_USER_FILE)) throw new InputError(`${file} of the image exceeds ${MAX_USER_FILE} bytes`);
    return reader.readFile(file)?.toString('utf8');
  };
  return { passwd: () => read('/etc/passwd'), group: () => read('/etc/group') };
}
