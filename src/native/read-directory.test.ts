import test from 'ava';
import { spawn } from 'node:child_process';
import { lstatSync, type BigIntStats } from 'node:fs';
import { chown, link, mkdir, mkdtemp, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mknod, S_IFBLK, S_IFCHR, S_IFIFO } from './mknod.ts';
import type { NativeErrnoError } from './native.d.ts';
import { readDirectory } from './read-directory.ts';

async function freshDir(t: { teardown(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'kiln-readdir-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

const FIELDS = [
  'dev', 'ino', 'mode', 'nlink', 'uid', 'gid', 'rdev', 'size', 'blksize', 'blocks',
  'atimeNs', 'mtimeNs', 'ctimeNs', 'atimeMs', 'mtimeMs', 'ctimeMs',
] as const satisfies ReadonlyArray<keyof BigIntStats>;
const TYPES = ['isFile', 'isDirectory', 'isSymbolicLink', 'isFIFO', 'isSocket', 'isCharacterDevice', 'isBlockDevice'] as const;

test('every entry comes with what lstatSync(path, {bigint: true}) says of it, whatever its type', async (t) => {
  const dir = await freshDir(t);
  await writeFile(join(dir, 'file'), 'twelve bytes');
  await chown(join(dir, 'file'), 1234, 5678);
  // A time before 1970 and one with nanoseconds: the packed fields are exact.
  await utimes(join(dir, 'file'), -86_400.5, 1_700_000_000.123456);
  await link(join(dir, 'file'), join(dir, 'hardlink'));
  await mkdir(join(dir, 'dir'), { mode: 0o750 });
  await symlink('file', join(dir, 'symlink'));
  await symlink('/nowhere', join(dir, 'dangling'));
  mknod(join(dir, 'fifo'), S_IFIFO | 0o600, 0, 0);
  mknod(join(dir, 'char'), S_IFCHR | 0o600, 1, 3);
  mknod(join(dir, 'block'), S_IFBLK | 0o600, 4095, 1_048_575);

  const entries = readDirectory(dir);
  t.deepEqual(entries.map((e) => e.name), ['block', 'char', 'dangling', 'dir', 'fifo', 'file', 'hardlink', 'symlink']);
  for (const { name, stats } of entries) {
    const expected = lstatSync(join(dir, name), { bigint: true });
    for (const field of FIELDS) t.is(stats[field], expected[field], `${name}: ${field}`);
    for (const type of TYPES) t.is(stats[type](), expected[type](), `${name}: ${type}()`);
    t.is(stats.mtime.getTime(), expected.mtime.getTime(), `${name}: mtime`);
    t.is(stats.atime.getTime(), expected.atime.getTime(), `${name}: atime`);
  }
  const file = entries.find((e) => e.name === 'file')!.stats;
  t.is(file.nlink, 2n);
  t.is(file.uid, 1234n);
  t.is(file.mtimeNs % 1_000_000_000n, 123_456_000n);
});

test('names are sorted bytewise, as Go sorts them: uppercase before lowercase, UTF-8 by its bytes', async (t) => {
  const dir = await freshDir(t);
  const names = ['b', 'a', 'B', 'é', 'z', '_', '10', '9', 'ﬀ', '😀', 'a.b', 'a-b'];
  for (const name of names) await writeFile(join(dir, name), '');
  const bytewise = [...names].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
  t.deepEqual(readDirectory(dir).map((e) => e.name), bytewise);
  t.deepEqual(readDirectory(await freshDir(t)), []);
});

test('a missing directory or a file is an error naming the path, shaped like Node’s', async (t) => {
  const dir = await freshDir(t);
  await writeFile(join(dir, 'file'), '');
  const missing = t.throws(() => readDirectory(join(dir, 'missing'))) as NativeErrnoError;
  t.is(missing.code, 'ENOENT');
  t.is(missing.syscall, 'scandir');
  t.is(missing.path, join(dir, 'missing'));
  t.regex(missing.message, /^ENOENT: no such file or directory, scandir '.*missing'$/);
  const notDirectory = t.throws(() => readDirectory(join(dir, 'file'))) as NativeErrnoError;
  t.is(notDirectory.code, 'ENOTDIR');
  t.throws(() => readDirectory(''), { instanceOf: TypeError });
});

test('an entry removed while the directory is read is left out, never an error', async (t) => {
  const dir = await freshDir(t);
  for (let i = 0; i < 50; i++) await writeFile(join(dir, `stays-${i}`), '');
  // Another process makes and removes files as fast as it can meanwhile.
  const churn = spawn('sh', ['-c', `cd ${JSON.stringify(dir)} && while :; do for i in 0 1 2 3 4 5 6 7 8 9; do : > come-$i; rm -f come-$i; done; done`], { stdio: 'ignore' });
  t.teardown(() => void churn.kill('SIGKILL'));
  let sawChurn = 0;
  for (let i = 0; i < 3000; i++) {
    const names = readDirectory(dir).map((e) => e.name);
    t.is(names.filter((name) => name.startsWith('stays-')).length, 50);
    if (names.some((name) => name.startsWith('come-'))) sawChurn++;
  }
  t.true(sawChurn > 0, 'the other process made no file while the directory was read');
});
