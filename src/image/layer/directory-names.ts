import { readdirSync } from 'node:fs';
import { InputError } from '../../errors/index.ts';

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * The names in the directory `dir` (readdir(3), without `.` and `..`), in the file system's
 * order, as text: kiln keeps paths as UTF-8 strings. Node decodes the names itself, putting
 * U+FFFD where bytes are not UTF-8; only a directory with a name holding U+FFFD is read again
 * as bytes to tell a real U+FFFD from a bad name, which is cheaper than decoding every name.
 * @throws InputError naming `dir` and the name for a name that is not UTF-8.
 */
export function directoryNames(dir: string): string[] {
  const names = readdirSync(dir);
  for (const name of names) if (name.includes('\uFFFD')) return strictNames(dir);
  return names;
}

function strictNames(dir: string): string[] {
  return readdirSync(dir, { encoding: 'buffer' }).map((raw) => {
    try {
      return utf8.decode(raw);
    } catch {
      throw new InputError(`${dir}: name ${JSON.stringify(raw.toString('latin1'))} is not UTF-8`, {
        hint: 'kiln keeps paths as UTF-8 text; rename the file',
      });
    }
  });
}
