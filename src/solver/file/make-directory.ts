import { realpath } from 'node:fs/promises';
import { InputError } from '../../errors/index.ts';
import { resolveInRoot } from '../../image/apply/index.ts';
import { makeDirectories, type Owner } from './make-directories.ts';

/** Options of {@link makeDirectory}. */
export interface MakeDirectoryOptions {
  /** Permission bits of the directories made (0755 for WORKDIR). */
  readonly mode: number;
  /** Owner of the directories made (WORKDIR: the USER, resolved as `--chown`); else root. */
  readonly owner?: Owner;
}

/**
 * A `MkdirAction` (WORKDIR) as BuildKit's file op runs it with MakeParents: `path`
 * (absolute in the container) resolved inside `root` (symlinks followed as the container
 * would, never leaving it), then every missing directory made with `mode` and `owner`.
 * Directories already there are left as they are.
 *
 * @returns the directories made, as host paths, outermost first
 * @throws ConflictError when an element of the path is a file
 */
export async function makeDirectory(root: string, path: string, options: MakeDirectoryOptions): Promise<string[]> {
  const realRoot = await realpath(root).catch((cause: NodeJS.ErrnoException) => {
    throw new InputError(`mkdir ${path}: root ${root}: ${cause.code ?? cause.message}`, { cause });
  });
  return makeDirectories(realRoot, await resolveInRoot(realRoot, path), options.mode & 0o777, options.owner);
}
