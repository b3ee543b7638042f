import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { InputError } from '../../errors/index.ts';
import { resolveInRoot } from '../../image/apply/index.ts';

/** One line of /etc/passwd (passwd(5)). */
export interface PasswdEntry {
  readonly name: string;
  readonly uid: number;
  readonly gid: number;
  readonly home: string;
}

/** One line of /etc/group (group(5)). */
export interface GroupEntry {
  readonly name: string;
  readonly gid: number;
  readonly members: readonly string[];
}

/** The most a passwd or group file may hold (BuildKit's maxUserFileBytes). */
export const MAX_USER_FILE = 10 << 20;

/**
 * Reads `/etc/passwd` or `/etc/group` (`file`, absolute in the container) of the file
 * system at `root`: resolved inside the root (symlinks followed as the container would,
 * never leaving it), opened without following a last symlink; undefined when it does not
 * exist.
 *
 * @throws InputError when it is not a regular file or exceeds 10 MiB
 */
export async function readUserFile(root: string, file: string): Promise<string | undefined> {
  const path = await resolveInRoot(root, file);
  const handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT' || error.code === 'ENOTDIR') return undefined;
    throw new InputError(`cannot read ${file} of the image: ${error.code ?? error.message}`, { cause: error });
  });
  if (handle === undefined) return undefined;
  try {
    const stats = await handle.stat();
    if (!stats.isFile()) throw new InputError(`${file} of the image is not a regular file`);
    if (stats.size > MAX_USER_FILE) throw new InputError(`${file} of the image exceeds ${MAX_USER_FILE} bytes`);
    return await handle.readFile('utf8');
  } finally {
    await handle.close();
  }
}

/**
 * The entries of a passwd file as moby/sys/user parses it: lines trimmed, blank ones
 * skipped (a `#` line is not a comment there), fields split at `:`, a number that does not
 * parse read as 0, missing fields empty.
 */
export function parsePasswd(text: string): PasswdEntry[] {
  const entries: PasswdEntry[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '') continue;
    const [name = '', , uid, gid, , home = ''] = line.split(':');
    entries.push({ name, uid: atoi(uid), gid: atoi(gid), home });
  }
  return entries;
}

/**
 * The entries of a group file as moby/sys/user parses it: lines trimmed, blank and `#`
 * lines skipped, `name:password:gid:member,member`.
 */
export function parseGroup(text: string): GroupEntry[] {
  const entries: GroupEntry[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const [name = '', , gid, members = ''] = line.split(':');
    entries.push({ name, gid: atoi(gid), members: members === '' ? [] : members.split(',') });
  }
  return entries;
}

/** Go's strconv.Atoi with the error ignored (moby/sys/user parseLine): 0 unless a decimal integer. */
function atoi(text: string | undefined): number {
  if (text === undefined || !/^[+-]?\d+$/.test(text)) return 0;
  const value = Number(text);
  return Number.isSafeInteger(value) ? value : 0;
}
