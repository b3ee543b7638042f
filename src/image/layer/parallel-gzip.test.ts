import test from 'ava';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { crc32, gunzipSync, gzipSync } from 'node:zlib';
import { UsageError } from '../../errors/index.ts';
import { compress } from './compress.ts';
import { GZIP_PIECE_BYTES, parallelGzip } from './parallel-gzip.ts';
import { membersOf, pseudoText } from '../../native/gzip-members-fixture.ts';
import { goReference } from './go-reference.ts';

const run = promisify(execFile);
/** The reference reader: Go's compress/gzip, as Docker, containerd, skopeo and umoci read layers. */

/** Small pieces, so that a test input spans many of them. */
const PIECE = 64 * 1024;

async function gzipOf(chunks: Iterable<Uint8Array> | AsyncIterable<Uint8Array>, options: { pieceBytes?: number; concurrency?: number; level?: number } = {}): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const piece of parallelGzip(asAsync(chunks), { level: options.level ?? 1, pieceBytes: options.pieceBytes ?? PIECE, ...(options.concurrency === undefined ? {} : { concurrency: options.concurrency }) })) {
    out.push(piece);
  }
  return Buffer.concat(out);
}

async function* asAsync(chunks: Iterable<Uint8Array> | AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  yield* chunks;
}

/** Compressible but not trivial: lines of pseudo-random words, `size` bytes. */
function payload(size: number, seed = 1): Buffer {
  return pseudoText(size, seed, (x) => `${x.toString(36)} ${'ab'.repeat(x % 7)}\n`);
}

/** `buffer` cut into pieces of `size` bytes. */
function cut(buffer: Buffer, size: number): Buffer[] {
  const pieces: Buffer[] = [];
  for (let i = 0; i < buffer.length; i += size) pieces.push(buffer.subarray(i, i + size));
  return pieces;
}

async function gunzipCli(t: { teardown(fn: () => Promise<void>): void }, gz: Buffer): Promise<Buffer> {
  const dir = await mkdtemp(join(tmpdir(), 'kiln-pgzip-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, 'in.gz'), gz);
  await run('gzip', ['-t', join(dir, 'in.gz')]);
  const { stdout } = await run('gzip', ['-d', '-c', join(dir, 'in.gz')], { encoding: 'buffer', maxBuffer: 1 << 28 });
  return stdout;
}

test('the output gunzips to the input, through zlib and through gzip(1)', async (t) => {
  const input = Buffer.concat([payload(6 * PIECE + 12_345), randomBytes(PIECE + 5), payload(3 * PIECE)]);
  const gz = await gzipOf(cut(input, 10_000));
  t.true(gz.length < input.length * 0.6);
  t.true(gunzipSync(gz).equals(input));
  t.true((await gunzipCli(t, gz)).equals(input));
});


test('text is one gzip member per piece, in input order, each inflating on its own to its piece and ending in its CRC-32 and length', async (t) => {
  const input = payload(5 * PIECE + 77);
  const gz = await gzipOf(cut(input, 10_000), { level: 6 });
  const members = membersOf(gz);
  const pieces = cut(input, PIECE);
  t.is(members.length, 6);
  for (const [i, member] of members.entries()) {
    t.deepEqual([...member.header], [...gzipSync(Buffer.alloc(0), { level: 6 }).subarray(0, 10)], `member ${i}: the header Node writes for level 6`);
    t.true(member.content.equals(pieces[i]!), `member ${i} holds piece ${i}`);
    t.is(member.crc, crc32(pieces[i]!) >>> 0);
    t.is(member.size, pieces[i]!.length);
    t.true(member.content.length > 2 * (member.header.length + 8), `member ${i} is compressed`);
  }
});

for (const level of [1, 9]) {
  test(`every header at level ${level} is zlib's own (MTIME 0, XFL for the level, OS 3)`, async (t) => {
    const members = membersOf(await gzipOf([payload(2 * PIECE + 1)], { level }));
    t.is(members.length, 3);
    for (const member of members) t.deepEqual([...member.header], [...gzipSync(Buffer.from('x'), { level }).subarray(0, 10)]);
  });
}

for (const size of [0, 1, PIECE - 1, PIECE, PIECE + 1, 3 * PIECE]) {
  const count = Math.max(1, Math.ceil(size / PIECE));
  test(`an input of ${size} bytes (piece boundaries at ${PIECE}) round-trips as ${count} member${count === 1 ? '' : 's'}, the last ending in the last piece's CRC-32 and length`, async (t) => {
    const input = payload(size, size + 3);
    const gz = await gzipOf(cut(input, 4096));
    t.true(gunzipSync(gz).equals(input));
    t.true((await gunzipCli(t, gz)).equals(input));
    t.is(membersOf(gz).length, count);
    const last = input.subarray((count - 1) * PIECE);
    t.is(gz.readUInt32LE(gz.length - 8), crc32(last) >>> 0);
    t.is(gz.readUInt32LE(gz.length - 4), last.length);
  });
}

test('the bytes depend on the input, level and piece size only: not on how the input is chunked or on the concurrency', async (t) => {
  // Text with random stretches across piece boundaries: stored and deflated runs alike.
  const input = Buffer.concat([payload(2 * PIECE + 999, 42), randomBytes(PIECE + 4321), payload(3 * PIECE, 43), randomBytes(PIECE / 2)]);
  const whole = await gzipOf([input], { concurrency: 1 });
  for (const [chunk, concurrency] of [
    [4096, 1],
    [3 * PIECE + 5, 2],
    [PIECE, 4],
    [1000, 8],
    [1, 3],
  ] as const) {
    t.true((await gzipOf(cut(input, chunk), { concurrency })).equals(whole), `chunks of ${chunk}, ${concurrency} at once`);
  }
  t.false((await gzipOf([input], { pieceBytes: 2 * PIECE })).equals(whole), 'another piece size gives other (valid) bytes');
  t.true(gunzipSync(await gzipOf([input], { pieceBytes: 2 * PIECE })).equals(input));
});

test('Go\'s compress/gzip reads the members as one stream', async (t) => {
  // Stored blocks too: random bytes inside and across pieces.
  const input = Buffer.concat([payload(PIECE + 999, 9), randomBytes(PIECE + 77), payload(2 * PIECE, 10)]);
  const gz = await gzipOf(cut(input, 7777));
  const reference = await goReference(t, 'go-gunzip');
  if (reference === undefined) return;
  const { binary, dir } = reference;
  await writeFile(join(dir, 'in.gz'), gz);
  const { stdout } = await run('sh', ['-c', '"$0" < "$1"', binary, join(dir, 'in.gz')], { encoding: 'buffer', maxBuffer: 1 << 28 });
  t.true(stdout.equals(input));
});

test('the default piece size is 1 MiB and the output through compress() is the same as parallelGzip at level 1', async (t) => {
  t.is(GZIP_PIECE_BYTES, 1 << 20);
  const input = payload(GZIP_PIECE_BYTES * 2 + 5);
  const viaCompress: Buffer[] = [];
  for await (const chunk of compress(Readable.from(cut(input, 65_536)), 'gzip')) viaCompress.push(chunk as Buffer);
  t.true(Buffer.concat(viaCompress).equals(await gzipOf([input], { pieceBytes: GZIP_PIECE_BYTES })));
});

test('aborting stops the compression with an AbortError and closes the source', async (t) => {
  const controller = new AbortController();
  let closed = false;
  let produced = 0;
  async function* endless(): AsyncGenerator<Buffer> {
    try {
      for (;;) {
        produced++;
        yield payload(PIECE, produced);
      }
    } finally {
      closed = true;
    }
  }
  const output = parallelGzip(endless(), { level: 1, pieceBytes: PIECE, concurrency: 2, signal: controller.signal });
  await t.throwsAsync(
    (async () => {
      let n = 0;
      for await (const _piece of output) if (++n === 3) controller.abort();
    })(),
    { any: true, name: 'AbortError' },
  );
  t.true(closed);
  t.true(produced < 20, `${produced} source chunks read`);
});

test('a consumer that stops early closes the source; destroying compress()\'s stream does too', async (t) => {
  let closed = 0;
  async function* source(): AsyncGenerator<Buffer> {
    try {
      for (let i = 0; i < 1000; i++) yield payload(PIECE, i);
    } finally {
      closed++;
    }
  }
  let n = 0;
  // Two members: the source is being read by then.
  for await (const _piece of parallelGzip(source(), { level: 1, pieceBytes: PIECE, concurrency: 1 })) if (++n === 2) break;
  t.is(closed, 1);
  const stream = compress(source(), 'gzip');
  await new Promise<void>((resolve) => stream.once('data', () => resolve()));
  stream.destroy();
  await new Promise((resolve) => stream.once('close', resolve));
  const deadline = Date.now() + 5000;
  while (closed < 2 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
  t.is(closed, 2);
  const unread = new Readable({ read() {} });
  const unstarted = compress(unread, 'gzip');
  unstarted.destroy();
  await new Promise((resolve) => unstarted.once('close', resolve));
  t.true(unread.destroyed, 'a stream source is destroyed even when the output was never read');
});

test('an error of the source reaches the reader as it is', async (t) => {
  const boom = new Error('disk on fire');
  async function* failing(): AsyncGenerator<Buffer> {
    yield payload(3 * PIECE);
    throw boom;
  }
  const error = await t.throwsAsync(gzipOf(failing()));
  t.is(error, boom);
});

test('a level out of 1-9 or a piece below 64 KiB is a UsageError', async (t) => {
  await t.throwsAsync(gzipOf([Buffer.from('x')], { level: 0 }), { instanceOf: UsageError });
  await t.throwsAsync(gzipOf([Buffer.from('x')], { level: 10 }), { instanceOf: UsageError });
  await t.throwsAsync(gzipOf([Buffer.from('x')], { pieceBytes: 1024 }), { instanceOf: UsageError });
});
