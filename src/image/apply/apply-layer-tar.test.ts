import test from 'ava';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { lstat, mkdir, readFile, readdir, readlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { applyLayer } from './apply-layer.ts';
import { freshRoot, layerStream, tarBytes, type FixtureEntry } from './tar-fixture.ts';

/*
 * Two simple layers (no whiteouts, which tar(1) does not know) applied in order by kiln and by
 * GNU tar -x must give the same tree: types, contents, link targets, owners, modes, mtimes
 * hard-link groups and device numbers.
 */

const run = promisify(execFile);

const T1 = 1_600_000_000;
const T2 = 1_650_000_000;

const lower: readonly FixtureEntry[] = [
  { name: 'etc/', type: 'directory', mode: 0o755, mtime: T1 },
  { name: 'etc/hostname', content: 'one\n', mtime: T1 + 1 },
  { name: 'etc/shadow', content: 'root:*:\n', mode: 0o640, gid: 42, mtime: T1 + 2 },
  { name: 'usr/', type: 'directory', mtime: T1 + 3 },
  { name: 'usr/bin/', type: 'directory', mtime: T1 + 4 },
  { name: 'usr/bin/tool', content: '#!/bin/sh\n', mode: 0o755, uid: 1000, gid: 1000, mtime: T1 + 5 },
  { name: 'usr/bin/tool2', type: 'link', linkname: 'usr/bin/tool', mode: 0o755, uid: 1000, gid: 1000, mtime: T1 + 5 },
  { name: 'usr/bin/suid', content: 'elf', mode: 0o4755, mtime: T1 + 6 },
  { name: 'bin', type: 'symlink', linkname: 'usr/bin', mtime: T1 + 7 },
  { name: 'tmp/', type: 'directory', mode: 0o1777, mtime: T1 + 8 },
  { name: 'var/', type: 'directory', mtime: T1 + 9 },
  { name: 'var/log/', type: 'directory', mtime: T1 + 10 },
  { name: 'var/log/old', content: 'log', mtime: T1 + 11 },
  { name: 'run/', type: 'directory', mtime: T1 + 12 },
  { name: 'run/fifo', type: 'fifo', mode: 0o620, uid: 3, gid: 5, mtime: T1 + 13 },
  { name: 'dev/', type: 'directory', mtime: T1 + 14 },
  { name: 'dev/null', type: 'character-device', devmajor: 1, devminor: 3, mode: 0o666, mtime: T1 + 15 },
  { name: 'dev/sda1', type: 'block-device', devmajor: 8, devminor: 1, mode: 0o660, gid: 6, mtime: T1 + 16 },
];

const upper: readonly FixtureEntry[] = [
  { name: 'etc/', type: 'directory', mode: 0o750, uid: 0, gid: 10, mtime: T2 },
  { name: 'etc/hostname', content: 'two\n', mtime: T2 + 1 },
  // Listed, as layer writers list the parents of what changed; otherwise both appliers leave
  // it with the time of the write, which may differ by a second.
  { name: 'usr/bin/', type: 'directory', mtime: T2 + 2 },
  { name: 'usr/bin/suid', content: 'elf2', mode: 0o6711, mtime: T2 + 2 },
  { name: 'bin', type: 'symlink', linkname: '/usr/bin', mtime: T2 + 3 },
  { name: 'var/log/', type: 'directory', mtime: T2 + 4 },
  { name: 'var/log/old', type: 'symlink', linkname: '../../tmp/old', mtime: T2 + 5 },
  { name: 'opt/', type: 'directory', mode: 0o700, mtime: T2 + 6 },
  { name: 'opt/app/', type: 'directory', mtime: T2 + 7 },
  { name: 'opt/app/data', content: 'x'.repeat(70_000), uid: 7, mtime: T2 + 8 },
  { name: 'opt/app/data-link', type: 'link', linkname: 'opt/app/data', uid: 7, mtime: T2 + 8 },
];

interface Node {
  readonly type: string;
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly mtime: number;
  readonly content?: string;
  readonly target?: string;
  readonly links?: readonly string[];
  readonly rdev?: number;
}

/** Every path below `root` with what a rootfs comparison cares about (atime and ctime aside). */
async function describe(root: string): Promise<Record<string, Node>> {
  const nodes: Record<string, Node> = {};
  const byInode = new Map<number, string[]>();
  const walk = async (rel: string): Promise<void> => {
    for (const name of (await readdir(join(root, rel))).sort()) {
      const path = rel === '' ? name : `${rel}/${name}`;
      const full = join(root, path);
      const stats = await lstat(full);
      const type = stats.isDirectory()
        ? 'dir'
        : stats.isSymbolicLink()
          ? 'symlink'
          : stats.isFIFO()
            ? 'fifo'
            : stats.isCharacterDevice()
              ? 'char'
              : stats.isBlockDevice()
                ? 'block'
                : 'file';
      const node: Node = {
        type,
        mode: stats.mode & 0o7777,
        uid: stats.uid,
        gid: stats.gid,
        mtime: Math.floor(stats.mtimeMs / 1000),
        ...(type === 'file' ? { content: createHash('sha256').update(await readFile(full)).digest('hex') } : {}),
        ...(type === 'symlink' ? { target: await readlink(full) } : {}),
        ...(type === 'char' || type === 'block' ? { rdev: stats.rdev } : {}),
      };
      nodes[path] = node;
      if (type === 'file' && stats.nlink > 1) byInode.set(stats.ino, [...(byInode.get(stats.ino) ?? []), path]);
      if (type === 'dir') await walk(path);
    }
  };
  await walk('');
  for (const group of byInode.values()) for (const path of group) nodes[path] = { ...nodes[path]!, links: group };
  return nodes;
}

test('two layers applied in order give the tree GNU tar -x gives', async (t) => {
  const { parent, root } = await freshRoot(t);
  await applyLayer(root, await layerStream(lower));
  await applyLayer(root, await layerStream(upper));

  const reference = join(parent, 'tar-x');
  await mkdir(reference);
  for (const [index, layer] of [lower, upper].entries()) {
    const file = join(parent, `layer${index}.tar`);
    await writeFile(file, await tarBytes(layer));
    // -p and --same-owner are root's defaults; spelt out since the comparison depends on them.
    await run('tar', ['-x', '-p', '--same-owner', '-f', file, '-C', reference]);
  }

  const ours = await describe(root);
  t.deepEqual(ours, await describe(reference));
  // The comparison means something only if the interesting cases are in it.
  t.is(ours['usr/bin/suid']?.mode, 0o6711);
  t.is(ours['var/log/old']?.type, 'symlink');
  t.deepEqual(ours['usr/bin/tool']?.links, ['usr/bin/tool', 'usr/bin/tool2']);
  t.is(ours['run/fifo']?.type, 'fifo');
  t.like(ours['dev/sda1'], { type: 'block', gid: 6 });
});
