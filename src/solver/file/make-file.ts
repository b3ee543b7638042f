import { constants } from 'node:fs';
import { open, realpath } from 'node:fs/promises';
import { ConflictError, InputError, NotFoundError } from '../../errors/index.ts';
import { resolveInRoot } from '../../image/apply/index.ts';
import { inRoot, type Owner } from './make-directories.ts';

/** Options of {@link makeFile}. */
export interface MakeFileOptions {
  /** Permission bits of the file (0644 for a heredoc source). */
  readonly mode: number;
  /** Its owner; else it is the process's (root). */
  readonly owner?: Owner;
}

/**
 * A `MkfileAction` (a heredoc COPY/ADD source) as BuildKit's file op runs it: `path`
 * (absolute in the container) resolved inside `root`, its directory must exist, `data`
 * written there (a file already there is truncated and rewritten), then owner and mode set.
 * The file is opened with O_NOFOLLOW: nothing is written through a symlink.
 *
 * @throws NotFoundError when the directory is missing; ConflictError when a directory is at `path`
 */
export async function makeFile(root: string, path: string, data: string | Uint8Array, options: MakeFileOptions): Promise<void> {
  const realRoot = await realpath(root).catch((cause: NodeJS.ErrnoException) => {
    throw new InputError(`mkfile ${path}: root ${root}: ${cause.code ?? cause.message}`, { cause });
  });
  const target = await resolveInRoot(realRoot, path);
  const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW;
  const file = await open(target, flags, options.mode & 0o777).catch((cause: NodeJS.ErrnoException) => {
    const where = inRoot(realRoot, target);
    if (cause.code === 'ENOENT' || cause.code === 'ENOTDIR') {
      throw new NotFoundError(`mkfile ${path}: the directory of ${where} does not exist`, { cause });
    }
    if (cause.code === 'EISDIR') throw new ConflictError(`mkfile ${path}: ${where} is a directory`, { cause });
    throw cause;
  });
  try {
    await file.writeFile(data);
    if (options.owner !== undefined) await file.chown(options.owner.uid, options.owner.gid);
    // After chown, and explicit: open(2)'s mode is filtered by the umask and ignored for an existing file.
    await file.chmod(options.mode & 0o777);
  } finally {
    await file.close();
  }
}
