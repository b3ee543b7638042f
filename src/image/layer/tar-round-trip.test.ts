import test from 'ava';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { compareLayerPaths, readLayerTar, whiteoutEntry, opaqueWhiteoutEntry, writeLayerTar, type LayerEntry } from './index.ts';

const run = promisify(execFile);

async function bytesOf(stream: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks);
}

function file(path: string, text: string | Buffer, extra: Partial<LayerEntry> = {}): LayerEntry {
  const body = typeof text === 'string' ? Buffer.from(text) : text;
  return { path, type: 'file', mode: 0o644, uid: 0, gid: 0, mtime: 1_700_000_000, size: body.length, content: () => Readable.from([body]), ...extra };
}

function dir(path: string, extra: Partial<LayerEntry> = {}): LayerEntry {
  return { path, type: 'dir', mode: 0o755, uid: 0, gid: 0, mtime: 1_700_000_000, ...extra };
}

const LONG_DIR = 'd'.repeat(90);
const NAME_OVER_100 = `${LONG_DIR}/${'f'.repeat(40)}`; // 131 bytes: fits ustar's prefix + name
const NAME_OVER_255 = `${'a'.repeat(120)}/${'b'.repeat(120)}/${'c'.repeat(30)}`; // 272 bytes: needs PAX
const UNICODE = 'ünïcødé-日本語-🦀.txt';

/** One of every entry type, in layer order, with the awkward names. */
function sample(): LayerEntry[] {
  const entries: LayerEntry[] = [
    whiteoutEntry('gone'),
    dir('a', { mode: 0o1777 }),
    opaqueWhiteoutEntry('a'),
    file('a/b', 'hello\n', { uid: 1000, gid: 1000, mode: 0o4755 }),
    { path: 'a/dev-block', type: 'block', mode: 0o660, uid: 0, gid: 6, mtime: 1_600_000_000, devmajor: 8, devminor: 1 },
    { path: 'a/dev-char', type: 'char', mode: 0o666, uid: 0, gid: 0, mtime: 1_600_000_000, devmajor: 1, devminor: 3 },
    { path: 'a/fifo', type: 'fifo', mode: 0o600, uid: 0, gid: 0, mtime: 1_600_000_000 },
    { path: 'a/hard', type: 'hardlink', mode: 0o4755, uid: 1000, gid: 1000, mtime: 1_700_000_000, linkname: 'a/b' },
    { path: 'a/link', type: 'symlink', mode: 0o777, uid: 0, gid: 0, mtime: 1_700_000_000, linkname: '../target/of/the/link' },
    file('a/xattrs', 'x', { xattrs: { 'user.kiln': Buffer.from('value'), 'security.capability': Buffer.from([1, 0, 0, 2, 0, 0x20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]) } }),
    dir('a-b'),
    dir(LONG_DIR),
    file(NAME_OVER_100, 'long'),
    { path: `${LONG_DIR}/long-link`, type: 'symlink', mode: 0o777, uid: 0, gid: 0, mtime: 0, linkname: 'l'.repeat(150) },
    file('big-ids', '', { uid: 3_000_000, gid: 4_000_000 }),
    file('z', ''),
    file(UNICODE, 'unicode'),
  ];
  return entries.sort((x, y) => compareLayerPaths(x.path, y.path));
}

test('every entry type survives a write and a read', async (t) => {
  const entries = sample();
  const tar = await bytesOf(writeLayerTar(entries));
  const read = [];
  for await (const entry of readLayerTar(Readable.from([tar]))) {
    read.push({ ...entry, body: (await bytesOf(entry.body)).toString('latin1') });
  }
  const expected = entries;
  t.is(read.length, expected.length);
  for (const [i, want] of expected.entries()) {
    const got = read[i]!;
    t.is(got.path, want.path);
    t.is(got.type, want.type, want.path);
    t.is(got.mode, want.mode, want.path);
    t.is(got.uid, want.uid, want.path);
    t.is(got.gid, want.gid, want.path);
    t.is(got.mtime, want.mtime, want.path);
    t.is(got.size, want.size ?? 0, want.path);
    t.is(got.linkname, want.linkname, want.path);
    t.is(got.devmajor, want.devmajor, want.path);
    t.is(got.devminor, want.devminor, want.path);
    t.deepEqual(got.xattrs, want.xattrs, want.path);
    const body = want.content === undefined ? '' : (await bytesOf(want.content())).toString('latin1');
    t.is(got.body, body, want.path);
  }
});

test('names over 100 and over 255 bytes and unicode names round trip', async (t) => {
  const entries = [dir('a'.repeat(120)), dir(`${'a'.repeat(120)}/${'b'.repeat(120)}`), file(NAME_OVER_255, 'deep'), dir(LONG_DIR), file(NAME_OVER_100, 'long'), file(UNICODE, 'u')];
  const tar = await bytesOf(writeLayerTar(entries));
  const paths = [];
  for await (const entry of readLayerTar(Readable.from([tar]))) paths.push(entry.path);
  t.deepEqual(paths, entries.map((e) => e.path));
  t.true(Buffer.byteLength(NAME_OVER_255) > 255);
  // A name that splits into ustar prefix and name needs no PAX header; the others do.
  t.false(tar.includes(`path=${NAME_OVER_100}`));
  t.true(tar.includes(`path=${NAME_OVER_255}\n`));
  t.true(tar.includes(Buffer.from(`path=${UNICODE}\n`)));
});

test('the same entries give byte-identical tars', async (t) => {
  const first = await bytesOf(writeLayerTar(sample()));
  const second = await bytesOf(writeLayerTar(sample()));
  t.true(first.equals(second));
  t.is(first.length % 512, 0);
  // Two zero blocks end the archive, and nothing follows them (Go's Writer.Close).
  t.true(first.subarray(-1024).equals(Buffer.alloc(1024)));
});

test('GNU tar lists type, mode, owner and link target of every entry', async (t) => {
  const directory = await mkdtemp(join(tmpdir(), 'kiln-layer-'));
  t.teardown(() => rm(directory, { recursive: true, force: true }));
  const path = join(directory, 'layer.tar');
  await writeFile(path, await bytesOf(writeLayerTar(sample())));
  const { stdout } = await run('tar', ['--numeric-owner', '--full-time', '-tvf', path], { env: { ...process.env, TZ: 'UTC', LC_ALL: 'C.UTF-8' } });
  const lines = stdout.trim().split('\n');
  const line = (suffix: string): string => lines.find((l) => l.endsWith(suffix)) ?? `(no line ending in ${suffix})`;
  t.regex(line(' .wh.gone'), /^-{10} 0\/0 +0 1970-01-01 00:00:00 \.wh\.gone$/);
  t.regex(line(' a/'), /^drwxrwxrwt 0\/0 +0 2023-11-14 22:13:20 a\/$/);
  t.regex(line(' a/.wh..wh..opq'), /^-{10} 0\/0 +0 /);
  t.regex(line(' a/b'), /^-rwsr-xr-x 1000\/1000 +6 2023-11-14 22:13:20 a\/b$/);
  t.regex(line(' a/dev-block'), /^brw-rw---- 0\/6 +8,1 2020-09-13 12:26:40 a\/dev-block$/);
  t.regex(line(' a/dev-char'), /^crw-rw-rw- 0\/0 +1,3 /);
  t.regex(line(' a/fifo'), /^prw------- 0\/0 +0 /);
  t.regex(line(' a/hard link to a/b'), /^hrwsr-xr-x 1000\/1000 +0 .* a\/hard link to a\/b$/);
  t.regex(line(' a/link -> ../target/of/the/link'), /^lrwxrwxrwx 0\/0 +0 /);
  t.regex(line(` ${NAME_OVER_100}`), /^-rw-r--r-- 0\/0 +4 /);
  t.regex(line(` ${LONG_DIR}/long-link -> ${'l'.repeat(150)}`), /^lrwxrwxrwx /);
  t.regex(line(' big-ids'), /^-rw-r--r-- 3000000\/4000000 +0 /);
  t.regex(line(` ${UNICODE}`), /^-rw-r--r-- 0\/0 +7 /);
  t.is(lines.length, sample().length);
});

test('GNU tar --xattrs restores an xattr the writer recorded', async (t) => {
  const directory = await mkdtemp(join(tmpdir(), 'kiln-layer-'));
  t.teardown(() => rm(directory, { recursive: true, force: true }));
  const value = Buffer.from([0x6b, 0x00, 0x69, 0xff, 0x0a, 0x6e]); // NUL, 0xff, newline inside
  await writeFile(join(directory, 'layer.tar'), await bytesOf(writeLayerTar([file('f', 'x', { xattrs: { 'user.kiln': value, 'user.plain': Buffer.from('yes'), 'trusted.kiln': Buffer.from('root only') } })])));
  const out = join(directory, 'out');
  await run('mkdir', [out]);
  // /tmp is ext4 here: user.* xattrs work on regular files, trusted.* too as root.
  await run('tar', ['--xattrs', "--xattrs-include=*", '-xf', join(directory, 'layer.tar'), '-C', out]);
  t.is(await readFile(join(out, 'f'), 'utf8'), 'x');
  // Archive the extracted file again with GNU tar and read its SCHILY.xattr records back.
  const { stdout } = await run('tar', ['--xattrs', '--format=posix', '-C', out, '-cf', '-', 'f'], { encoding: 'buffer', maxBuffer: 1 << 20 });
  const xattrs: Record<string, Buffer> = {};
  for await (const entry of readLayerTar(Readable.from([stdout]))) {
    Object.assign(xattrs, entry.xattrs);
    entry.body.resume();
  }
  t.deepEqual(xattrs['user.kiln'], value);
  t.deepEqual(xattrs['user.plain'], Buffer.from('yes'));
  t.deepEqual(xattrs['trusted.kiln'], Buffer.from('root only'));
});

