import test from 'ava';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { loadNative } from './load-native.ts';
import type { NativeErrnoError } from './native.d.ts';
import { lgetxattr, llistxattr, lremovexattr, lsetxattr, readXattrs } from './xattr.ts';

const run = promisify(execFile);

/** A file in a fresh directory of /tmp (ext4 here: user. and, as root, trusted. attributes). */
async function freshFile(t: { teardown(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'kiln-xattr-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, 'file');
  await writeFile(file, 'content');
  return file;
}

/** The attributes of `path` as getfattr(1) reads them (package attr), values in hex. */
async function getfattr(path: string): Promise<Record<string, string>> {
  const { stdout } = await run('getfattr', ['--absolute-names', '--no-dereference', '--match=-', '--encoding=hex', '--dump', path]);
  const attributes: Record<string, string> = {};
  for (const line of stdout.split('\n')) {
    const match = /^([^=#]+)=0x([0-9a-f]*)$/.exec(line);
    if (match !== null) attributes[match[1]!] = match[2]!;
  }
  return attributes;
}

test('a binary value set with lsetxattr reads back byte for byte, and getfattr sees it', async (t) => {
  const file = await freshFile(t);
  const value = Buffer.from([0, 1, 0x0a, 0xff, 0x3d, 0, 0x80]);
  lsetxattr(file, 'user.kiln', value);
  lsetxattr(file, 'trusted.kiln', Buffer.from('root only'));
  lsetxattr(file, 'user.empty', new Uint8Array());
  t.deepEqual(lgetxattr(file, 'user.kiln'), value);
  t.deepEqual(lgetxattr(file, 'trusted.kiln'), Buffer.from('root only'));
  t.deepEqual(lgetxattr(file, 'user.empty'), Buffer.alloc(0));
  t.deepEqual(await getfattr(file), {
    'trusted.kiln': Buffer.from('root only').toString('hex'),
    'user.empty': '',
    'user.kiln': value.toString('hex'),
  });
});

test('lsetxattr replaces a value, and a value of 3000 bytes reads back whole', async (t) => {
  const file = await freshFile(t);
  lsetxattr(file, 'user.big', Buffer.from('short'));
  const big = Buffer.alloc(3000, 'x');
  lsetxattr(file, 'user.big', big);
  t.deepEqual(lgetxattr(file, 'user.big'), big);
});

test('an attribute set by setfattr is read by lgetxattr', async (t) => {
  const file = await freshFile(t);
  await run('setfattr', ['-n', 'user.from-setfattr', '-v', '0x00ff10', file]);
  t.deepEqual(lgetxattr(file, 'user.from-setfattr'), Buffer.from([0, 0xff, 0x10]));
});

test('llistxattr lists every name; readXattrs reads them all in name order', async (t) => {
  const file = await freshFile(t);
  t.deepEqual(llistxattr(file), []);
  t.deepEqual(readXattrs(file), {});
  for (const name of ['user.b', 'trusted.t', 'user.a']) lsetxattr(file, name, Buffer.from(name));
  t.deepEqual(llistxattr(file).sort(), ['trusted.t', 'user.a', 'user.b']);
  const all = readXattrs(file);
  t.deepEqual(Object.keys(all), ['trusted.t', 'user.a', 'user.b']);
  t.deepEqual(all['user.a'], Buffer.from('user.a'));
});

test('a missing attribute is ENODATA with errno, syscall, path and attribute, like an fs error', async (t) => {
  const file = await freshFile(t);
  const error = t.throws<NativeErrnoError>(() => lgetxattr(file, 'user.missing'));
  t.like(error, { code: 'ENODATA', errno: -61, syscall: 'lgetxattr', path: file, attribute: 'user.missing' });
  t.is(error.message, `ENODATA: no data available, lgetxattr '${file}' 'user.missing'`);
  t.true(error instanceof Error);
});

test('lremovexattr removes an attribute, and removing it again is ENODATA', async (t) => {
  const file = await freshFile(t);
  lsetxattr(file, 'user.gone', Buffer.from('x'));
  lremovexattr(file, 'user.gone');
  t.deepEqual(llistxattr(file), []);
  t.like(t.throws(() => lremovexattr(file, 'user.gone')), { code: 'ENODATA', syscall: 'lremovexattr' });
});

test('a missing path is ENOENT naming it, for every call', async (t) => {
  const file = `${await freshFile(t)}-missing`;
  for (const call of [
    () => lgetxattr(file, 'user.a'),
    () => lsetxattr(file, 'user.a', Buffer.from('a')),
    () => llistxattr(file),
    () => lremovexattr(file, 'user.a'),
  ]) {
    t.like(t.throws(call), { code: 'ENOENT', errno: -2, path: file });
  }
});

test('the calls act on a symlink itself, never on its target', async (t) => {
  const file = await freshFile(t);
  const link = `${file}-link`;
  await symlink(file, link);
  lsetxattr(link, 'trusted.on-link', Buffer.from('link'));
  t.deepEqual(llistxattr(link), ['trusted.on-link']);
  t.deepEqual(llistxattr(file), []);
  // xattr(7): user. attributes belong to regular files and directories only.
  t.like(t.throws(() => lsetxattr(link, 'user.on-link', Buffer.from('x'))), { code: 'EPERM', syscall: 'lsetxattr', path: link });
  t.deepEqual(await getfattr(link), { 'trusted.on-link': Buffer.from('link').toString('hex') });
});

test('an unknown namespace is ENOTSUP and a name over 255 bytes ERANGE, from the kernel', async (t) => {
  const file = await freshFile(t);
  t.like(t.throws(() => lsetxattr(file, 'nonamespace', Buffer.from('x'))), { code: 'ENOTSUP' });
  t.like(t.throws(() => lsetxattr(file, `user.${'n'.repeat(251)}`, Buffer.from('x'))), { code: 'ERANGE' });
});

test('arguments of the wrong type are TypeErrors naming the argument', async (t) => {
  const file = await freshFile(t);
  const cases: Array<[() => unknown, RegExp]> = [
    [() => lgetxattr(42 as unknown as string, 'user.a'), /^lgetxattr: path must be a string, got number$/],
    [() => lgetxattr(file, undefined as unknown as string), /^lgetxattr: name must be a non-empty string, got undefined$/],
    [() => lgetxattr(file, ''), /^lgetxattr: name must be a non-empty string, got ""$/],
    [() => lgetxattr(`${file}\0x`, 'user.a'), /^lgetxattr: path must be a string without NUL bytes/],
    [() => lsetxattr(file, 'user.a', 'text' as unknown as Buffer), /^lsetxattr: value must be a Buffer or Uint8Array, got string$/],
    [() => lsetxattr(file, 'user.a', new Uint16Array(2) as unknown as Buffer), /^lsetxattr: value must be a Buffer or Uint8Array, got object$/],
    [() => llistxattr(null as unknown as string), /^llistxattr: path must be a string, got null$/],
    [() => lremovexattr(file, 'user.\0'), /^lremovexattr: name must be a string without NUL bytes/],
  ];
  for (const [call, message] of cases) t.throws(call, { instanceOf: TypeError, message });
});

test('the raw surface refuses anything but an options object, naming it', (t) => {
  const fs = loadNative().fs as unknown as Record<string, (options: unknown) => unknown>;
  for (const name of ['lgetxattr', 'lsetxattr', 'llistxattr', 'lremovexattr', 'mknod']) {
    for (const options of [undefined, 'path', ['path']]) {
      t.throws(() => fs[name]!(options), { instanceOf: TypeError, message: new RegExp(`^${name}: options must be an object, got `) });
    }
  }
});
