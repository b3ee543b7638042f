import test from 'ava';
import { spawn } from 'node:child_process';
import { lstatSync, type BigIntStats } from 'node:fs';
import { chown, link, mkdir, mkdtemp, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mknod, S_IFBLK, S_IFCHR, S_IFIFO } from './mknod.ts';
import type { NativeErrnoError } from './native.d.ts';
import { type DirectoryEntry, DirectoryReadAhead, readDirectory } from './read-directory.ts';

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

/** Makes `spec` (a name → subtree, or file text) below `dir`. */
async function makeTree(dir: string, spec: Record<string, unknown>): Promise<void> {
  for (const [name, value] of Object.entries(spec)) {
    if (typeof value === 'string') await writeFile(join(dir, name), value);
    else {
      await mkdir(join(dir, name));
      await makeTree(join(dir, name), value as Record<string, unknown>);
    }
  }
}

/**
 * What the two give, comparable with deepEqual: names and every stat field but the access
 * time, which the first read of a fresh directory moves (relatime).
 */
function listing(entries: readonly DirectoryEntry[]): unknown[] {
  const fields = FIELDS.filter((field) => !field.startsWith('atime'));
  return entries.map(({ name, stats }) => [name, ...fields.map((field) => stats[field]), stats.isDirectory()]);
}

test('read ahead, a depth-first walk gets what readDirectory gives for every directory, most read by the thread', async (t) => {
  const dir = await freshDir(t);
  const tree: Record<string, unknown> = {};
  for (let p = 0; p < 6; p++) {
    const pkg: Record<string, unknown> = { 'index.js': `p${p}` };
    for (let m = 0; m < 8; m++) pkg[`mod${m}`] = { 'a.ts': 'a', 'b.ts': 'b', deep: { 'c.ts': 'c' } };
    tree[`pkg${p}`] = pkg;
  }
  await makeTree(dir, { ...tree, 'top.txt': 'top', 'a-b': {}, a: { 'a.txt': '' } });
  const ahead = new DirectoryReadAhead();
  t.teardown(() => ahead.close());
  let walked = 0;
  const walk = (path: string, entries = ahead.read(path)): void => {
    walked++;
    t.deepEqual(listing(entries), listing(readDirectory(path)), path);
    for (const entry of entries) if (entry.stats.isDirectory()) walk(join(path, entry.name));
  };
  const top = ahead.read(dir);
  // The root's eight subdirectories are the thread's to read: it does so unprompted.
  for (const started = Date.now(); ahead.readAhead < 8 && Date.now() - started < 10_000; ) await new Promise((resolve) => setTimeout(resolve, 5));
  t.is(ahead.readAhead, 8);
  walk(dir, top);
  t.is(walked, 1 + 6 * (1 + 8 * 2) + 2);
  t.true(ahead.readAhead >= 8);
});

test('read ahead, a skipped directory is not read below, and can still be read; a walk out of order still gets each listing', async (t) => {
  const dir = await freshDir(t);
  await makeTree(dir, { a: { x: { 'f': '' }, y: { 'g': '' } }, b: { z: {} }, c: {} });
  const ahead = new DirectoryReadAhead();
  t.teardown(() => ahead.close());
  ahead.read(dir);
  ahead.skip(join(dir, 'a'));
  t.deepEqual(listing(ahead.read(join(dir, 'b'))), listing(readDirectory(join(dir, 'b'))));
  t.deepEqual(listing(ahead.read(join(dir, 'b', 'z'))), []);
  t.deepEqual(listing(ahead.read(join(dir, 'c'))), []);
  // At most a, b, c and b/z: nothing below the skipped a.
  t.true(ahead.readAhead <= 4, `read ahead ${ahead.readAhead}`);
  // Asked for anyway, and before what the walk passed: read then, and right.
  t.deepEqual(ahead.read(join(dir, 'a')).map((e) => e.name), ['x', 'y']);
  t.deepEqual(ahead.read(join(dir, 'a', 'y')).map((e) => e.name), ['g']);
  t.deepEqual(ahead.read(join(dir, 'a', 'x')).map((e) => e.name), ['f']);
});

test('read ahead, errors are readDirectory’s: a subdirectory removed after its parent was read is ENOENT, and close() leaves reads working', async (t) => {
  const dir = await freshDir(t);
  await makeTree(dir, { gone: { f: '' }, stays: { g: '' } });
  const ahead = new DirectoryReadAhead();
  ahead.read(dir);
  await rm(join(dir, 'gone'), { recursive: true });
  // Read ahead before the removal, or by either thread after it: a listing as of then.
  try {
    t.deepEqual(ahead.read(join(dir, 'gone')).map((e) => e.name), ['f']);
  } catch (error) {
    t.is((error as NativeErrnoError).code, 'ENOENT');
    t.is((error as NativeErrnoError).syscall, 'scandir');
  }
  ahead.close();
  t.deepEqual(ahead.read(join(dir, 'stays')).map((e) => e.name), ['g']);
  t.throws(() => ahead.read(join(dir, 'missing')), { code: 'ENOENT' });
  ahead.close();
});
