import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * The mount points at or below `dir` in this process's mount namespace, deepest first
 * (the order to unmount them in). Reads /proc/self/mountinfo, whose fifth field is the mount
 * point with space, tab, newline and backslash written as octal escapes (proc(5)).
 */
export async function mountsUnder(dir: string): Promise<string[]> {
  const prefix = resolve(dir);
  const text = await readFile('/proc/self/mountinfo', 'utf8');
  const points = text
    .split('\n')
    .map((line) => line.split(' ')[4])
    .filter((field): field is string => field !== undefined)
    .map((field) => field.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(Number.parseInt(octal, 8))))
    .filter((point) => point === prefix || point.startsWith(`${prefix}/`));
  return [...new Set(points)].sort((a, b) => b.length - a.length);
}

/**
 * Lifts every mount at or below `dir` (lazily, `umount -l`, so that one still busy does not
 * stop the rest), deepest first, so that removing `dir` afterwards removes only its own files
 * and never reaches through a mount. Peers leave such mounts when stopped hard (overlay2
 * layers, network namespace files, containers/storage's private bind of its root).
 */
export async function unmountUnder(dir: string): Promise<void> {
  for (const point of await mountsUnder(dir)) {
    await run('umount', ['-l', point]).catch(() => undefined);
  }
}
