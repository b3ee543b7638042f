import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The path `command` resolves to through PATH (`command -v`), or undefined when it is not installed. */
export async function which(command: string): Promise<string | undefined> {
  return run('sh', ['-c', 'command -v "$1"', 'which', command]).then(
    ({ stdout }) => stdout.trim() || undefined,
    () => undefined,
  );
}
