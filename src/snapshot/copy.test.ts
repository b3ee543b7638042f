import test from 'ava';
import { execFileSync } from 'node:child_process';
import { lstatSync, mkdtempSync, rmSync } from 'node:fs';
import { chmod, chown, link, lutimes, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openContentStore } from '../content/index.ts';
import { lsetxattr, mknod, S_IFCHR, S_IFIFO } from '../native/index.ts';
import { openCopySnapshotter } from './copy-snapshotter.ts';
import { copyTree } from './copy-tree.ts';
import { buildLayer, dir, file, listLayer, listTree, mountsUnder, withMounted } from './snapshot-fixture.ts';
import { snapshotterSuite } from './testsuite.ts';

snapshotterSuite(test, { name: 'copy', edit: 'direct', open: (root, content) => openCopySnapshotter({ root, content }) });

const base = mkdtempSync(join(tmpdir(), 'kc-'));

test('copyTree keeps owners, modes, times, hard links, devices and extended attributes', async (t) => {
  const work = await mkdtemp(join(base, 'copy-'));
  t.teardown(() => rm(work, { recursive: true, force: true }));
  const src = join(work, 'src');
  await mkdir(join(src, 'private/deeper'), { recursive: true });
  await chown(join(src, 'private'), 7, 8);
  await chmod(join(src, 'private'), 0o750);
  await writeFile(join(src, 'private/deeper/su'), 'su');
  await chmod(join(src, 'private/deeper/su'), 0o4755);
  await writeFile(join(src, 'one'), 'one');
  await link(join(src, 'one'), join(src, 'two'));
  await symlink('one', join(src, 'link'));
  await chown(join(src, 'link'), 9, 9).catch(() => undefined);
  mknod(join(src, 'fifo'), S_IFIFO | 0o640);
  mknod(join(src, 'null'), S_IFCHR | 0o666, 1, 3);
  lsetxattr(join(src, 'one'), 'user.a', Buffer.from('1'));
  lsetxattr(join(src, 'private'), 'user.dir', Buffer.from('d'));
  await lutimes(join(src, 'one'), 1_650_000_000.123456, 1_650_000_000.123456);
  await lutimes(join(src, 'private/deeper'), 1_600_000_000, 1_600_000_000);

  await copyTree(src, join(work, 'dest'));
  t.deepEqual(listTree(join(work, 'dest')), listTree(src));
  const mtime = (path: string): bigint => lstatSync(path, { bigint: true }).mtimeNs;
  const drift = mtime(join(work, 'dest/one')) - mtime(join(src, 'one'));
  t.true(drift <= 1000n && drift >= -1000n, `mtime differs by ${drift} ns`);
  t.is(lstatSync(join(work, 'dest/one')).ino, lstatSync(join(work, 'dest/two')).ino);
  t.is(lstatSync(join(work, 'dest')).mode, lstatSync(src).mode);
});

test('the bind mount of an active snapshot shows its parent and takes changes', async (t) => {
  const root = await mkdtemp(join(base, 'r'));
  t.teardown(() => rm(root, { recursive: true, force: true }));
  const content = await openContentStore(root);
  const snapshotter = await openCopySnapshotter({ root, content });
  const { chainId } = await snapshotter.unpack([await buildLayer(content, [dir('etc'), file('etc/hostname', 'base\n')])]);
  const mounts = await snapshotter.prepare('work', chainId);
  t.like(mounts, [{ type: 'bind', options: ['rbind', 'rw'] }]);
  await withMounted(base, mounts, async (tree) => {
    t.deepEqual(listTree(tree, { skipDirTimes: true }).map((e) => e.path), ['etc', 'etc/hostname']);
    await writeFile(join(tree, 'etc/hostname'), 'changed\n');
  });
  t.deepEqual(await listLayer(content, await snapshotter.diff(chainId, 'work')), [dir('etc'), file('etc/hostname', 'changed\n')]);
});

test.after.always('no copy test leaves a mount behind', (t) => {
  const left = mountsUnder(base);
  for (const point of left.reverse()) execFileSync('umount', ['-l', point]);
  rmSync(base, { recursive: true, force: true });
  t.deepEqual(left, []);
});
