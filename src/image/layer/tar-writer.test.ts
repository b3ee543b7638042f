import test from 'ava';
import { Readable } from 'node:stream';
import { InputError, IntegrityError, InternalError, UsageError } from '../../errors/index.ts';
import { layerTarChunks, readLayerTar, writeLayerTar, type LayerEntry } from './index.ts';

async function bytesOf(stream: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks);
}

function file(path: string, mtime: number, body = ''): LayerEntry {
  const bytes = Buffer.from(body);
  return { path, type: 'file', mode: 0o644, uid: 0, gid: 0, mtime, size: bytes.length, content: () => Readable.from([bytes]) };
}

async function mtimes(entries: LayerEntry[], options: Parameters<typeof writeLayerTar>[1]): Promise<number[]> {
  const out: number[] = [];
  for await (const entry of readLayerTar(writeLayerTar(entries, options))) out.push(entry.mtime);
  return out;
}

test('rewriteTimestamp lowers only mtimes later than SOURCE_DATE_EPOCH', async (t) => {
  const entries = [file('a', 100), file('b', 1000), file('c', 5000)];
  t.deepEqual(await mtimes(entries, { sourceDateEpoch: 1000, rewriteTimestamp: true }), [100, 1000, 1000]);
  t.deepEqual(await mtimes(entries, { sourceDateEpoch: 1000 }), [100, 1000, 5000]);
  t.throws(() => writeLayerTar(entries, { rewriteTimestamp: true }), { instanceOf: UsageError });
});

test('fractional mtimes are floored to whole seconds', async (t) => {
  t.deepEqual(await mtimes([file('a', 1.9), file('b', -0.5)], {}), [1, -1]);
});

test('entries out of layer order or repeated fail with InternalError', async (t) => {
  await t.throwsAsync(bytesOf(writeLayerTar([file('b', 0), file('a', 0)])), { instanceOf: InternalError, message: /"a" after "b"/ });
  await t.throwsAsync(bytesOf(writeLayerTar([file('a', 0), file('a', 0)])), { instanceOf: InternalError });
  // a/b sorts before a-b: a directory's children come before its later siblings.
  await t.throwsAsync(bytesOf(writeLayerTar([file('a-b', 0), file('a/b', 0)])), { instanceOf: InternalError });
  await t.notThrowsAsync(bytesOf(writeLayerTar([file('a/b', 0), file('a-b', 0)])));
});

test('a body shorter or longer than its size fails with IntegrityError naming the path', async (t) => {
  const short: LayerEntry = { ...file('short', 0), size: 10, content: () => Readable.from([Buffer.from('12345')]) };
  await t.throwsAsync(bytesOf(writeLayerTar([short])), { instanceOf: IntegrityError, message: /^short: expected 10 bytes, read 5/ });
  const long: LayerEntry = { ...file('long', 0), size: 2, content: () => Readable.from([Buffer.from('12345')]) };
  await t.throwsAsync(bytesOf(writeLayerTar([long])), { instanceOf: IntegrityError, message: /^long: expected 2 bytes, read more/ });
});

test('unclean paths and incomplete entries fail with InputError', async (t) => {
  for (const path of ['/abs', './a', 'a//b', 'a/../b', 'a/', '']) {
    await t.throwsAsync(bytesOf(writeLayerTar([file(path, 0)])), { instanceOf: InputError }, JSON.stringify(path));
  }
  const base = { mode: 0o644, uid: 0, gid: 0, mtime: 0 };
  await t.throwsAsync(bytesOf(writeLayerTar([{ ...base, path: 'l', type: 'symlink' }])), { instanceOf: InputError, message: /needs a target/ });
  await t.throwsAsync(bytesOf(writeLayerTar([{ ...base, path: 'c', type: 'char' }])), { instanceOf: InputError, message: /devmajor/ });
  await t.throwsAsync(bytesOf(writeLayerTar([{ ...base, path: 'd', type: 'dir', size: 3 }])), { instanceOf: InputError, message: /no body/ });
  await t.throwsAsync(bytesOf(writeLayerTar([{ ...base, path: 'f', type: 'file', size: 3 }])), { instanceOf: InputError, message: /needs content/ });
  await t.throwsAsync(bytesOf(writeLayerTar([{ ...base, path: 'm', type: 'file', mode: 0o100644 }])), { instanceOf: InputError, message: /mode/ });
  await t.throwsAsync(bytesOf(writeLayerTar([{ ...base, path: 'x', type: 'file', xattrs: { 'a=b': Buffer.from('') } }])), { instanceOf: InputError });
});

test('an empty layer is two zero blocks', async (t) => {
  t.true((await bytesOf(writeLayerTar([]))).equals(Buffer.alloc(1024)));
});

test('destroying the output closes the body being read and the entry source', async (t) => {
  let bodyDestroyed = false;
  let sourceClosed = false;
  const body = new Readable({ read() { this.push(Buffer.alloc(65536)); } });
  body.on('close', () => (bodyDestroyed = true));
  async function* source(): AsyncGenerator<LayerEntry> {
    try {
      yield { ...file('big', 0), size: 1 << 30, content: () => body };
    } finally {
      sourceClosed = true;
    }
  }
  const output = writeLayerTar(source());
  for await (const _chunk of output) break;
  await new Promise((resolve) => setTimeout(resolve, 50));
  t.true(bodyDestroyed);
  t.true(sourceClosed);
});

test('aborting fails the stream with the abort reason', async (t) => {
  const controller = new AbortController();
  const body = new Readable({ read() { this.push(Buffer.alloc(65536)); } });
  const output = writeLayerTar([{ ...file('big', 0), size: 1 << 30, content: () => body }], { signal: controller.signal });
  const error = await t.throwsAsync(
    (async () => {
      for await (const _chunk of output) controller.abort();
    })(),
  );
  t.is(error.name, 'AbortError');
});

/** A file entry whose body can be had both ways: `readInto` and `content`. */
function twoWay(path: string, body: Buffer, extra: Partial<LayerEntry> = {}): LayerEntry {
  return {
    ...file(path, 0),
    size: body.length,
    content: () => Readable.from([body]),
    readInto: (target, offset, length) => body.copy(target, offset, 0, Math.min(length, body.length)),
    ...extra,
  };
}

function sized(size: number, seed: number): Buffer {
  const body = Buffer.alloc(size);
  for (let i = 0; i < size; i++) body[i] = (i * 31 + seed) & 0xff;
  return body;
}

test('bodies read with readInto give the bytes bodies read through content give', async (t) => {
  const entries: LayerEntry[] = [];
  // Sizes around the block size, the direct-read limit (256 KiB) and the chunk size (1 MiB),
  // names that need a PAX header, and enough entries to fill several output chunks.
  const sizes = [0, 1, 511, 512, 513, 65_535, 65_536, 262_143, 262_144, 262_145, 1_048_576, 1_049_000];
  let n = 0;
  for (const size of sizes) entries.push(twoWay(`a${String(n++).padStart(4, '0')}`, sized(size, n)));
  entries.push(twoWay(`b/${'l'.repeat(120)}`, sized(700, 1)), twoWay('b/x', sized(10, 3), { xattrs: { 'user.k': Buffer.from('v') } }), twoWay('b/é', sized(1000, 2)));
  for (let i = 0; i < 3000; i++) entries.push(twoWay(`c/${String(i).padStart(5, '0')}`, sized(100 + (i % 900), i)));
  const direct = await bytesOf(writeLayerTar(entries));
  const streamed = await bytesOf(writeLayerTar(entries.map(({ readInto: _, ...entry }) => entry)));
  t.true(direct.equals(streamed));
  const paths = [];
  for await (const entry of readLayerTar(Readable.from([direct]))) {
    paths.push(entry.path);
    entry.body.resume();
  }
  t.deepEqual(paths, entries.map((entry) => entry.path));
});

test('a small body with readInto is read with it, a large one through content', async (t) => {
  const opened: string[] = [];
  const entries = [twoWay('large', sized(300_000, 1)), twoWay('small', sized(1000, 2))].map((entry) => ({
    ...entry,
    content: () => {
      opened.push(entry.path);
      return entry.content!();
    },
  }));
  await bytesOf(writeLayerTar(entries));
  t.deepEqual(opened, ['large']);
});

test('a body readInto finds shorter or longer than its size fails with IntegrityError naming the path', async (t) => {
  const short = twoWay('short', Buffer.from('12345'), { size: 10 });
  await t.throwsAsync(bytesOf(writeLayerTar([short])), { instanceOf: IntegrityError, message: /^short: expected 10 bytes, read 5/ });
  const long = twoWay('long', Buffer.from('12345'), { size: 2 });
  await t.throwsAsync(bytesOf(writeLayerTar([long])), { instanceOf: IntegrityError, message: /^long: expected 2 bytes, read more/ });
});

/** `twoWay` with `readAt` too: the body from any position. */
function threeWay(path: string, body: Buffer, extra: Partial<LayerEntry> = {}): LayerEntry {
  return twoWay(path, body, { readAt: (target, offset, length, position) => body.copy(target, offset, Math.min(position, body.length), Math.min(position + length, body.length)), ...extra });
}

/** Every chunk of `chunks`, copied as it comes (layerTarChunks refills a chunk's buffer after). */
async function copiesOf(chunks: AsyncIterable<Buffer>): Promise<{ bytes: Buffer; buffers: number }> {
  const copies: Buffer[] = [];
  const buffers = new Set<ArrayBufferLike>();
  for await (const chunk of chunks) {
    copies.push(Buffer.from(chunk));
    buffers.add(chunk.buffer);
  }
  return { bytes: Buffer.concat(copies), buffers: buffers.size };
}

test('bodies read with readAt, through writeLayerTar or layerTarChunks, give the bytes bodies read through content give', async (t) => {
  const sizes = [0, 1, 262_144, 262_145, 300_000, 1_048_575, 1_048_576, 1_048_577, 3_000_001];
  const entries: LayerEntry[] = [];
  let n = 0;
  for (const size of sizes) entries.push(threeWay(`a${String(n++).padStart(4, '0')}`, sized(size, n)));
  for (let i = 0; i < 2000; i++) entries.push(threeWay(`c/${String(i).padStart(5, '0')}`, sized(100 + (i % 5000), i)));
  entries.push(threeWay('d/last', sized(2_000_000, 9)));
  const streamed = await bytesOf(writeLayerTar(entries.map(({ readInto: _, readAt: __, ...entry }) => entry)));
  t.true((await bytesOf(writeLayerTar(entries))).equals(streamed));
  const chunked = await copiesOf(layerTarChunks(entries));
  t.true(chunked.bytes.equals(streamed));
  // About 12 MB of tar through a handful of 1 MiB buffers, not one per MiB.
  t.true(streamed.length > 12_000_000, `${streamed.length} bytes`);
  t.true(chunked.buffers <= 4, `${chunked.buffers} buffers`);
});

test('a body readAt finds shorter or longer than its size fails with IntegrityError naming the path', async (t) => {
  const short = threeWay('short', sized(400_000, 1), { size: 500_000 });
  await t.throwsAsync(copiesOf(layerTarChunks([short])), { instanceOf: IntegrityError, message: /^short: expected 500000 bytes, read 400000/ });
  const long = threeWay('long', sized(400_000, 1), { size: 300_000 });
  await t.throwsAsync(bytesOf(writeLayerTar([long])), { instanceOf: IntegrityError, message: /^long: expected 300000 bytes, read more/ });
});

test('layerTarChunks closes its entry source when the consumer stops, and stops on abort', async (t) => {
  let closed = false;
  function* source(): Generator<LayerEntry> {
    try {
      for (let i = 0; ; i++) yield threeWay(`f${String(i).padStart(9, '0')}`, sized(300_000, i));
    } finally {
      closed = true;
    }
  }
  for await (const _chunk of layerTarChunks(source())) break;
  t.true(closed);
  const controller = new AbortController();
  const error = await t.throwsAsync(
    (async () => {
      for await (const _chunk of layerTarChunks(source(), { signal: controller.signal })) controller.abort();
    })(),
    { any: true },
  );
  t.is((error as { name?: string } | undefined)?.name, 'AbortError');
});

test('a synchronous entry source is closed when the output is destroyed', async (t) => {
  let closed = false;
  function* source(): Generator<LayerEntry> {
    try {
      for (let i = 0; ; i++) yield twoWay(`f${String(i).padStart(9, '0')}`, sized(4000, i));
    } finally {
      closed = true;
    }
  }
  for await (const _chunk of writeLayerTar(source())) break;
  await new Promise((resolve) => setTimeout(resolve, 50));
  t.true(closed);
});

test('a slow synchronous entry source still lets the event loop turn', async (t) => {
  // 60 entries of 1 ms of synchronous work each, far less than one output chunk of bytes.
  function* source(): Generator<LayerEntry> {
    for (let i = 0; i < 60; i++) {
      const until = performance.now() + 1;
      while (performance.now() < until) {
        // busy: a synchronous file-system walk
      }
      yield twoWay(`f${String(i).padStart(3, '0')}`, Buffer.from('x'));
    }
  }
  let turned = false;
  setImmediate(() => (turned = true));
  let turnedBeforeEnd = false;
  for await (const _chunk of writeLayerTar(source())) turnedBeforeEnd ||= turned;
  t.true(turnedBeforeEnd);
});
