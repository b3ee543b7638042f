import test from 'ava';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { crc32, gunzipSync, gzipSync, inflateRawSync } from 'node:zlib';
import { UsageError } from '../../errors/index.ts';
import { compress } from './compress.ts';
import { GZIP_PIECE_BYTES, parallelGzip } from './parallel-gzip.ts';

const run = promisify(execFile);

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
  const bytes = Buffer.alloc(size);
  let x = seed;
  let at = 0;
  while (at < size) {
    x = (x * 1_103_515_245 + 12_345) % 2 ** 31;
    at += bytes.write(`${x.toString(36)} ${'ab'.repeat(x % 7)}\n`, at);
  }
  return bytes;
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
  const input = payload(10 * PIECE + 12_345);
  const gz = await gzipOf(cut(input, 10_000));
  t.true(gz.length < input.length / 2);
  t.true(gunzipSync(gz).equals(input));
  t.true((await gunzipCli(t, gz)).equals(input));
});

test('the output is one gzip member: one header, one raw deflate stream of every piece, the CRC-32 and length of the whole input', async (t) => {
  const input = payload(5 * PIECE + 77);
  const gz = await gzipOf([input], { level: 6 });
  t.deepEqual([...gz.subarray(0, 10)], [...gzipSync(Buffer.alloc(0), { level: 6 }).subarray(0, 10)], 'the header Node writes for level 6');
  const body = gz.subarray(10, gz.length - 8);
  t.true(inflateRawSync(body).equals(input));
  t.is(gz.readUInt32LE(gz.length - 8), crc32(input) >>> 0);
  t.is(gz.readUInt32LE(gz.length - 4), input.length);
});

for (const level of [1, 9]) {
  test(`the header at level ${level} is zlib's own (MTIME 0, XFL for the level, OS 3)`, async (t) => {
    const gz = await gzipOf([Buffer.from('x')], { level });
    t.deepEqual([...gz.subarray(0, 10)], [...gzipSync(Buffer.from('x'), { level }).subarray(0, 10)]);
  });
}

for (const size of [0, 1, PIECE - 1, PIECE, PIECE + 1, 3 * PIECE]) {
  test(`an input of ${size} bytes (piece boundaries at ${PIECE}) round-trips and ends in its CRC-32 and length`, async (t) => {
    const input = payload(size, size + 3);
    const gz = await gzipOf(cut(input, 4096));
    t.true(gunzipSync(gz).equals(input));
    t.true((await gunzipCli(t, gz)).equals(input));
    t.is(gz.readUInt32LE(gz.length - 8), crc32(input) >>> 0);
    t.is(gz.readUInt32LE(gz.length - 4), size);
  });
}

test('the bytes depend on the input, level and piece size only: not on how the input is chunked or on the concurrency', async (t) => {
  const input = payload(7 * PIECE + 999, 42);
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

test('pieces after the first start from the previous 32 KiB: a repeat across a boundary still compresses', async (t) => {
  // Random bytes repeated after a piece boundary: only a dictionary lets the second copy compress.
  const block = Buffer.alloc(16 * 1024);
  for (let i = 0, x = 7; i < block.length; i++) block[i] = (x = (x * 1_103_515_245 + 12_345) % 2 ** 31) >> 16;
  const input = Buffer.concat([Buffer.alloc(PIECE - block.length, 'a'), block, block]);
  const gz = await gzipOf([input]);
  t.true(gz.length < block.length + 4096, `${gz.length} bytes`);
  t.true(gunzipSync(gz).equals(input));
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
  // The header, then the first piece's deflate: the source is being read by then.
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
