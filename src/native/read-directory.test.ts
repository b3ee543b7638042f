import test from 'ava';
import { spawn } from 'node:child_process';
import { lstatSync, readdirSync, writeFileSync, type BigIntStats } from 'node:fs';
import { chown, link, mkdir, mkdtemp, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mknod, S_IFBLK, S_IFCHR, S_IFIFO } from './mknod.ts';
import type { NativeErrnoError } from './native.d.ts';
import { type DirectoryEntry, DirectoryReadAhead, listDirectory, readDirectory } from './read-directory.ts';

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

test('a listing holds its names as one buffer, joined by "/", split as Node decodes names (bytes that are not UTF-8 too)', async (t) => {
  const dir = await freshDir(t);
  // A name ending in half a UTF-8 sequence, one with a lone continuation byte, and plain ones.
  const odd = [Buffer.from([0x61, 0xc3]), Buffer.from([0x80, 0x62]), Buffer.from('é'), Buffer.from('z')];
  for (const name of odd) writeFileSync(Buffer.concat([Buffer.from(`${dir}/`), name]), '');
  const listing = listDirectory(dir);
  const sorted = [...odd].sort(Buffer.compare);
  t.deepEqual(listing.joinedNames, Buffer.concat(sorted.flatMap((name, i) => (i === 0 ? [name] : [Buffer.from('/'), name]))));
  t.is(listing.length, 4);
  t.deepEqual(listing.names, sorted.map((name) => name.toString('utf8')));
  t.deepEqual([...listing.names].sort(), readdirSync(dir).sort());
  const empty = listDirectory(await freshDir(t));
  t.is(empty.length, 0);
  t.deepEqual(empty.names, []);
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

test('read ahead, a depth-first walk gets what readDirectory gives for every directory, the ones it named read by the thread', async (t) => {
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
  const walk = (path: string): void => {
    const entries = ahead.read(path);
    walked++;
    t.deepEqual(listing(entries), listing(readDirectory(path)), path);
    const subdirectories = entries.filter((entry) => entry.stats.isDirectory()).map((entry) => join(path, entry.name));
    ahead.prefetch(subdirectories);
    for (const subdirectory of subdirectories) walk(subdirectory);
  };
  const top = ahead.read(dir);
  t.deepEqual(listing(top), listing(readDirectory(dir)));
  const subdirectories = top.filter((entry) => entry.stats.isDirectory()).map((entry) => join(dir, entry.name));
  ahead.prefetch(subdirectories);
  // The root's eight subdirectories, named, are the thread's to read: it does so unprompted.
  for (const started = Date.now(); ahead.readAhead < 8 && Date.now() - started < 10_000; ) await new Promise((resolve) => setTimeout(resolve, 5));
  t.is(ahead.readAhead, 8);
  for (const subdirectory of subdirectories) walk(subdirectory);
  t.is(walked, 6 * (1 + 8 * 2) + 2);
  t.true(ahead.readAhead >= 8);
});

test('read ahead, nothing is read that the walk did not name; a directory read out of order, or not named, still comes right', async (t) => {
  const dir = await freshDir(t);
  await makeTree(dir, { a: { x: { f: '' }, y: { g: '' } }, b: { z: {} }, c: {} });
  const ahead = new DirectoryReadAhead();
  t.teardown(() => ahead.close());
  ahead.read(dir);
  // The walk leaves a out (an ignore rule): it names b and c only.
  ahead.prefetch([join(dir, 'b'), join(dir, 'c')]);
  for (const started = Date.now(); ahead.readAhead < 2 && Date.now() - started < 10_000; ) await new Promise((resolve) => setTimeout(resolve, 5));
  await new Promise((resolve) => setTimeout(resolve, 50));
  t.is(ahead.readAhead, 2);
  t.deepEqual(listing(ahead.read(join(dir, 'b'))), listing(readDirectory(join(dir, 'b'))));
  t.deepEqual(listing(ahead.read(join(dir, 'b', 'z'))), []);
  t.deepEqual(listing(ahead.read(join(dir, 'c'))), []);
  t.is(ahead.readAhead, 2);
  // Asked for anyway, and before what the walk passed: read then, and right.
  t.deepEqual(ahead.read(join(dir, 'a')).map((e) => e.name), ['x', 'y']);
  t.deepEqual(ahead.read(join(dir, 'a', 'y')).map((e) => e.name), ['g']);
  t.deepEqual(ahead.read(join(dir, 'a', 'x')).map((e) => e.name), ['f']);
});

test('read ahead, a directory whose read ahead failed is read again when taken; close() leaves reads working', async (t) => {
  const dir = await freshDir(t);
  await makeTree(dir, { stays: { g: '' } });
  const ahead = new DirectoryReadAhead();
  ahead.read(dir);
  // Named before it exists: the thread's read fails (ENOENT), the walk's later read does not.
  ahead.prefetch([join(dir, 'later')]);
  for (const started = Date.now(); ahead.readAhead < 1 && Date.now() - started < 10_000; ) await new Promise((resolve) => setTimeout(resolve, 5));
  t.is(ahead.readAhead, 1);
  await makeTree(dir, { later: { h: '' } });
  t.deepEqual(ahead.read(join(dir, 'later')).map((e) => e.name), ['h']);
  ahead.close();
  t.deepEqual(ahead.read(join(dir, 'stays')).map((e) => e.name), ['g']);
  const error = t.throws(() => ahead.read(join(dir, 'missing'))) as NativeErrnoError;
  t.is(error.code, 'ENOENT');
  t.is(error.syscall, 'scandir');
  ahead.prefetch([join(dir, 'stays')]);
  t.is(ahead.readAhead, 1);
  ahead.close();
});
