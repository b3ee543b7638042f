import test from 'ava';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lsetxattr, mknod, S_IFCHR } from '../native/index.ts';
import { MergedReader, upperDirOf } from './merged-reader.ts';
import type { Mount } from './snapshotter.ts';

/** An upper dir over two lowers: the shapes overlayfs merges. */
async function layers(t: { teardown(fn: () => Promise<void>): void }): Promise<{ mounts: Mount[]; upper: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'kiln-merged-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const [upper, top, bottom] = ['upper', 'top', 'bottom'].map((n) => join(dir, n)) as [string, string, string];
  for (const d of [upper, top, bottom]) await mkdir(d);
  // bottom: /etc/passwd, /etc/group, /gone, /opaque/old, /real/file
  await mkdir(join(bottom, 'etc'));
  await writeFile(join(bottom, 'etc', 'passwd'), 'root:x:0:0::/root:/bin/sh\n');
  await writeFile(join(bottom, 'etc', 'group'), 'root:x:0:\n');
  await writeFile(join(bottom, 'gone'), 'x');
  await mkdir(join(bottom, 'opaque'));
  await writeFile(join(bottom, 'opaque', 'old'), 'old');
  await mkdir(join(bottom, 'real'));
  await writeFile(join(bottom, 'real', 'file'), 'through a link');
  // top: /etc/passwd replaced, /gone whited out, /opaque made opaque with /opaque/new, /link → /real, /escape → ../../..
  await mkdir(join(top, 'etc'));
  await writeFile(join(top, 'etc', 'passwd'), 'app:x:1000:1000::/home/app:/bin/sh\n');
  mknod(join(top, 'gone'), S_IFCHR | 0o600, 0, 0);
  await mkdir(join(top, 'opaque'));
  lsetxattr(join(top, 'opaque'), 'trusted.overlay.opaque', Buffer.from('y'));
  await writeFile(join(top, 'opaque', 'new'), 'new');
  await symlink('/real', join(top, 'link'));
  await symlink('../../../../etc', join(top, 'escape'));
  const mounts: Mount[] = [{ type: 'overlay', source: 'overlay', options: [`workdir=${join(dir, 'work')}`, `upperdir=${upper}`, `lowerdir=${top}:${bottom}`] }];
  return { mounts, upper };
}

test('a merged reader sees the topmost file, honours whiteouts and opaque directories, and follows links inside the root', async (t) => {
  const { mounts, upper } = await layers(t);
  const reader = new MergedReader(mounts);
  t.is(reader.readFile('/etc/passwd')?.toString(), 'app:x:1000:1000::/home/app:/bin/sh\n');
  t.is(reader.readFile('/etc/group')?.toString(), 'root:x:0:\n');
  t.false(reader.exists('/gone'));
  t.true(reader.exists('/opaque/new'));
  t.false(reader.exists('/opaque/old'));
  t.is(reader.readFile('/link/file')?.toString(), 'through a link');
  t.true(reader.exists('/link'));
  t.true(reader.stat('/link')?.isDirectory());
  // ../../../../etc from /escape stays at the root: /etc of the layers, never the host's.
  t.is(reader.readFile('/escape/passwd')?.toString(), 'app:x:1000:1000::/home/app:/bin/sh\n');
  t.false(reader.exists('/proc'));
  t.is(upperDirOf(mounts), upper);
});

test('a bind mount is read as its directory; a read-only one has no upper directory', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'kiln-merged-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, 'f'), 'bound');
  const rw: Mount[] = [{ type: 'bind', source: dir, options: ['rbind', 'rw'] }];
  t.is(new MergedReader(rw).readFile('/f')?.toString(), 'bound');
  t.is(upperDirOf(rw), dir);
  t.is(upperDirOf([{ type: 'bind', source: dir, options: ['rbind', 'ro'] }]), undefined);
});
