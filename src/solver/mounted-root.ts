import { randomBytes } from 'node:crypto';
import { mkdir, readFile, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { mount, unmount } from '../native/index.ts';
import { claimDirectory, isAbandoned } from '../owner/index.ts';
import type { Mount } from '../snapshot/index.ts';

/**
 * Runs `fn` with the file system `mounts` describe (a snapshot's) visible at a host path, as
 * BuildKit's file ops see a snapshot: a lone bind mount is its directory itself (nothing is
 * mounted; a read-only one is only read by the caller); an overlay is mounted in kiln's own
 * mount namespace under `<mountsDir>/<id>/root`, a directory owned by this process
 * (src/owner), and unmounted on every path. {@link cleanAbandonedMounts} undoes what a killed
 * kiln left.
 */
export async function withMountedRoot<T>(
  mounts: readonly Mount[],
  mountsDir: string,
  readOnly: boolean,
  fn: (root: string) => Promise<T>,
): Promise<T> {
  const [only, extra] = mounts;
  if (only === undefined || extra !== undefined) throw new Error(`withMountedRoot: expected one mount, got ${mounts.length}`);
  if (only.type === 'bind') return fn(only.source);
  const dir = join(mountsDir, `${Date.now().toString(36)}-${randomBytes(6).toString('hex')}`);
  await mkdir(dir, { recursive: true });
  await claimDirectory(dir);
  const root = join(dir, 'root');
  await mkdir(root);
  try {
    mount({ type: 'overlay', source: only.source, target: root, data: only.options.join(','), readOnly });
    try {
      return await fn(root);
    } finally {
      unmountHard(root);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Unmounts, lazily when something still holds the mount (a file left open by a failed copy). */
function unmountHard(target: string): void {
  try {
    unmount(target);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EBUSY') throw error;
    unmount(target, true);
  }
}

/**
 * Unmounts and removes what dead kiln processes left under `mountsDir` (a kill between
 * mount and unmount); mounts of live processes are left alone.
 */
export async function cleanAbandonedMounts(mountsDir: string): Promise<void> {
  const names = await readdir(mountsDir).catch(() => [] as string[]);
  if (names.length === 0) return;
  const table = await readFile('/proc/self/mountinfo', 'utf8');
  const mounted = new Set(table.split('\n').map((line) => unescapeMountPath(line.split(' ')[4] ?? '')));
  for (const name of names) {
    const dir = join(mountsDir, name);
    if (!(await isAbandoned(dir))) continue;
    const root = join(dir, 'root');
    if (mounted.has(root)) unmount(root, true);
    await rm(dir, { recursive: true, force: true });
  }
}

/** mountinfo escapes space, tab, newline and backslash as octal (proc(5)). */
function unescapeMountPath(text: string): string {
  return text.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(Number.parseInt(octal, 8)));
}
