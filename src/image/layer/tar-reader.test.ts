import test from 'ava';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, symlink, writeFile, link } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { InputError, IntegrityError } from '../../errors/index.ts';
import { readLayerTar, writeLayerTar, type LayerEntry, type ReadLayerEntry } from './index.ts';
import { encodePaxRecords } from './pax-records.ts';
import { encodeHeader, TypeFlag } from './tar-header.ts';

const run = promisify(execFile);

async function bytesOf(stream: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks);
}

function file(path: string, text: string): LayerEntry {
  const body = Buffer.from(text);
  return { path, type: 'file', mode: 0o644, uid: 0, gid: 0, mtime: 0, size: body.length, content: () => Readable.from([body]) };
}

async function tarOf(entries: LayerEntry[]): Promise<Buffer> {
  return bytesOf(writeLayerTar(entries));
}

/** Reads every entry, consuming each body, as `{path, body}`. */
async function readAll(tar: Buffer | AsyncIterable<Uint8Array>): Promise<Array<Omit<ReadLayerEntry, 'body'> & { text: string }>> {
  const out = [];
  for await (const entry of readLayerTar(Buffer.isBuffer(tar) ? Readable.from([tar]) : tar)) {
    const { body, ...rest } = entry;
    out.push({ ...rest, text: (await bytesOf(body)).toString() });
  }
  return out;
}

/** Splits a buffer into chunks of `size` bytes: headers and bodies straddle chunk ends. */
function* chunked(data: Buffer, size: number): Generator<Buffer> {
  for (let i = 0; i < data.length; i += size) yield data.subarray(i, i + size);
}

test('entries read the same whatever the chunking of the input', async (t) => {
  const tar = await tarOf([file('a', 'x'.repeat(1000)), file('b', ''), file('c', 'y'.repeat(513))]);
  for (const size of [1, 7, 511, 512, 513, 4096]) {
    const entries = await readAll(Readable.from(chunked(tar, size)));
    t.deepEqual(entries.map((e) => [e.path, e.text.length]), [['a', 1000], ['b', 0], ['c', 513]], `chunks of ${size}`);
  }
});

test('a body left unread is skipped when the iterator advances', async (t) => {
  const tar = await tarOf([file('a', 'x'.repeat(3 << 20)), file('b', 'second')]);
  const seen: string[] = [];
  for await (const entry of readLayerTar(Readable.from(chunked(tar, 65536)))) {
    seen.push(entry.path);
    if (entry.path === 'b') t.is((await bytesOf(entry.body)).toString(), 'second');
  }
  t.deepEqual(seen, ['a', 'b']);
});

test('a body read in part is skipped and its stream destroyed', async (t) => {
  const tar = await tarOf([file('a', 'x'.repeat(3 << 20)), file('b', 'second')]);
  const iterator = readLayerTar(Readable.from(chunked(tar, 65536)));
  const first = (await iterator.next()).value as ReadLayerEntry;
  for await (const chunk of first.body) {
    t.true((chunk as Buffer).length > 0);
    break;
  }
  const second = (await iterator.next()).value as ReadLayerEntry;
  t.is(second.path, 'b');
  t.is((await bytesOf(second.body)).toString(), 'second');
  t.true((await iterator.next()).done);
});

test('a tar cut inside a body fails with IntegrityError naming the entry', async (t) => {
  const tar = await tarOf([file('first', 'ok'), file('second', 'z'.repeat(5000))]);
  const cut = tar.subarray(0, 512 * 3 + 1000);
  const error = await t.throwsAsync(readAll(cut), { instanceOf: IntegrityError });
  t.regex(error.message, /truncated in the body of entry "second"/);
});

test('a tar cut inside a header fails with IntegrityError naming the entry before it', async (t) => {
  const tar = await tarOf([file('first', 'ok'), file('second', 'z')]);
  const error = await t.throwsAsync(readAll(tar.subarray(0, 512 * 2 + 100)), { instanceOf: IntegrityError });
  t.regex(error.message, /truncated in a header after entry "first"/);
});

test('a tar without its end-of-archive blocks fails with IntegrityError', async (t) => {
  const tar = await tarOf([file('first', 'ok')]);
  const error = await t.throwsAsync(readAll(tar.subarray(0, 1024)), { instanceOf: IntegrityError });
  t.regex(error.message, /after entry "first": no end-of-archive block/);
  await t.throwsAsync(readAll(Buffer.alloc(0)), { instanceOf: IntegrityError, message: /at its start/ });
});

test('one zero block then the end is accepted, as Go and GNU tar accept it', async (t) => {
  const tar = await tarOf([file('first', 'ok')]);
  t.deepEqual((await readAll(tar.subarray(0, tar.length - 512))).map((e) => e.path), ['first']);
});

test('a header with a bad checksum fails with InputError', async (t) => {
  const tar = await tarOf([file('first', 'ok'), file('second', 'z')]);
  const corrupt = Buffer.from(tar);
  corrupt[1024 + 3] = corrupt[1024 + 3]! ^ 0x20;
  await t.throwsAsync(readAll(corrupt), { instanceOf: InputError, message: /header at byte 1024: tar header checksum mismatch/ });
  await t.throwsAsync(readAll(Buffer.alloc(1024, 'not a tar at all ')), { instanceOf: InputError });
});

test('a malformed PAX record fails with InputError', async (t) => {
  const header = encodeHeader({ ...fields('x'), typeflag: TypeFlag.paxLocal, size: 12 });
  const tar = Buffer.concat([header, Buffer.from('99 path=abc\n'), Buffer.alloc(500), encodeHeader(fields('x')), Buffer.alloc(1024)]);
  await t.throwsAsync(readAll(tar), { instanceOf: InputError, message: /malformed PAX record/ });
});

test('a path climbing out with .. fails with InputError', async (t) => {
  const tar = Buffer.concat([encodeHeader(fields('a/../../etc/passwd')), Buffer.alloc(1024)]);
  await t.throwsAsync(readAll(tar), { instanceOf: InputError, message: /climbs out/ });
});

test('a PAX size record overrides the header size field', async (t) => {
  const pax = encodePaxRecords([['size', Buffer.from('5')]], 'f');
  const tar = Buffer.concat([
    encodeHeader({ ...fields('PaxHeaders.0/f'), typeflag: TypeFlag.paxLocal, size: pax.length }),
    pax,
    Buffer.alloc(512 - pax.length),
    encodeHeader({ ...fields('f'), size: 0 }),
    Buffer.from('hello'),
    Buffer.alloc(507),
    Buffer.alloc(1024),
  ]);
  const [entry] = await readAll(tar);
  t.is(entry?.size, 5);
  t.is(entry?.text, 'hello');
});

test('sizes from 8 GiB up go into a PAX size record, the header field left 0', (t) => {
  const size = 8 * 1024 ** 3;
  const blocks = encodeHeader({ ...fields('huge'), size });
  t.is(blocks.length, 3 * 512);
  t.is(blocks.subarray(512, 512 + 19).toString(), `19 size=${size}\n`);
  t.is(blocks.toString('latin1', 1024 + 124, 1024 + 136), '00000000000\0');
  t.is(encodeHeader({ ...fields('small'), size: size - 1 }).length, 512);
});

test('GNU tar archives read back: gnu long names, posix pax, ./ prefixes and the root entry', async (t) => {
  const directory = await mkdtemp(join(tmpdir(), 'kiln-layer-'));
  t.teardown(() => rm(directory, { recursive: true, force: true }));
  const tree = join(directory, 'tree');
  const long = `${'d'.repeat(110)}/${'f'.repeat(120)}-ü`;
  await mkdir(join(tree, 'd'.repeat(110)), { recursive: true });
  await writeFile(join(tree, long), 'long');
  await symlink('t'.repeat(130), join(tree, 'link'));
  await link(join(tree, long), join(tree, 'hard'));
  for (const format of ['gnu', 'posix']) {
    const args = ['--format', format, '--numeric-owner', '-C', tree, '-cf', '-', '.'];
    const { stdout } = await run('tar', args, { encoding: 'buffer', maxBuffer: 1 << 24 });
    const entries = await readAll(stdout);
    const byPath = new Map(entries.map((e) => [e.path, e]));
    t.is(byPath.get('')?.type, 'dir', format);
    t.is(byPath.get(long)?.text, 'long', format);
    t.is(byPath.get('link')?.linkname, 't'.repeat(130), format);
    const hard = byPath.get('hard') ?? byPath.get(long);
    t.true(hard?.type === 'hardlink' && (hard.linkname === long || hard.linkname === 'hard'), format);
  }
});

/** Header fields of an empty regular file. */
function fields(name: string) {
  return { name, typeflag: TypeFlag.file, mode: 0o644, uid: 0, gid: 0, size: 0, mtime: 0, linkname: '', devmajor: 0, devminor: 0, xattrs: undefined };
}
