import test from 'ava';
import { execFile } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { digestOf, openContentStore } from '../../content/index.ts';
import { IntegrityError } from '../../errors/index.ts';
import { compressLayer, decompressLayer, readLayerTar, writeLayerBlob, writeLayerTar, type LayerEntry } from './index.ts';

const run = promisify(execFile);

async function bytesOf(stream: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks);
}

function entries(): LayerEntry[] {
  const out: LayerEntry[] = [{ path: 'd', type: 'dir', mode: 0o755, uid: 0, gid: 0, mtime: 1 }];
  for (let i = 0; i < 200; i++) {
    const body = Buffer.from(`file ${i} `.repeat(i * 50));
    out.push({ path: `d/f${String(i).padStart(3, '0')}`, type: 'file', mode: 0o644, uid: 0, gid: 0, mtime: 1, size: body.length, content: () => Readable.from([body]) });
  }
  return out;
}

async function sha256sum(path: string): Promise<string> {
  const { stdout } = await run('sha256sum', [path]);
  return `sha256:${stdout.split(' ')[0]}`;
}

async function tmp(t: { teardown(fn: () => Promise<void>): void }): Promise<string> {
  const directory = await mkdtemp(join(tmpdir(), 'kiln-digests-'));
  t.teardown(() => rm(directory, { recursive: true, force: true }));
  return directory;
}

for (const compression of ['gzip', 'zstd', 'uncompressed'] as const) {
  test(`${compression}: DiffID is sha256sum of the tar, digest and size those of the blob`, async (t) => {
    const directory = await tmp(t);
    const { blob, done } = compressLayer(writeLayerTar(entries()), compression);
    const compressed = await bytesOf(blob);
    const layer = await done;
    await writeFile(join(directory, 'blob'), compressed);
    await writeFile(join(directory, 'layer.tar'), await bytesOf(writeLayerTar(entries())));
    t.is(layer.digest as string, await sha256sum(join(directory, 'blob')));
    t.is(layer.size, compressed.length);
    t.is(layer.diffId as string, await sha256sum(join(directory, 'layer.tar')));
    t.is(layer.compression, compression);
    if (compression === 'uncompressed') t.is(layer.digest as string, layer.diffId as string);
    else t.not(layer.digest as string, layer.diffId as string);
  });
}

test('writeLayerBlob stores the blob under its digest and returns the DiffID', async (t) => {
  const directory = await tmp(t);
  const store = await openContentStore(join(directory, 'store'));
  const layer = await writeLayerBlob(writeLayerTar(entries()), await store.writer(), 'gzip');
  const stored = await bytesOf(store.open(layer.digest));
  t.is(stored.length, layer.size);
  const { tar, done } = decompressLayer(store.open(layer.digest), 'gzip');
  const names: string[] = [];
  for await (const entry of readLayerTar(tar)) {
    names.push(entry.path);
    entry.body.resume();
  }
  t.is(names.length, 201);
  const read = await done;
  t.is(read.diffId, layer.diffId);
  t.is(read.digest, layer.digest);
  t.is(read.size, layer.size);
});

for (const compression of ['uncompressed', 'gzip', 'zstd'] as const) {
  test(`writeLayerBlob, ${compression}: the stored blob is sha256sum'd to its digest, the tar to its DiffID`, async (t) => {
    const directory = await tmp(t);
    const store = await openContentStore(join(directory, 'store'));
    const layer = await writeLayerBlob(writeLayerTar(entries()), await store.writer(), compression);
    await writeFile(join(directory, 'layer.tar'), await bytesOf(writeLayerTar(entries())));
    t.is(layer.digest as string, await sha256sum(join(directory, 'store', 'blobs', 'sha256', layer.digest.slice('sha256:'.length))));
    t.is((await store.info(layer.digest))?.size, layer.size);
    t.is(layer.diffId as string, await sha256sum(join(directory, 'layer.tar')));
    t.is(layer.compression, compression);
  });
}

test('writeLayerBlob into a writer that expects another digest fails and stores nothing', async (t) => {
  const directory = await tmp(t);
  const store = await openContentStore(join(directory, 'store'));
  const expected = { digest: digestOf('something else') };
  await t.throwsAsync(writeLayerBlob(writeLayerTar(entries()), await store.writer({ expected }), 'uncompressed'), { instanceOf: IntegrityError });
  const blobs = [];
  for await (const blob of store.list()) blobs.push(blob);
  t.deepEqual(blobs, []);
});

test('the same entries give the same blob digest twice, gzip and zstd', async (t) => {
  for (const compression of ['gzip', 'zstd'] as const) {
    const a = compressLayer(writeLayerTar(entries()), compression);
    await bytesOf(a.blob);
    const b = compressLayer(writeLayerTar(entries()), compression);
    await bytesOf(b.blob);
    t.deepEqual(await a.done, await b.done, compression);
  }
});

test('a failing layer aborts the writer and leaves nothing in the store', async (t) => {
  const directory = await tmp(t);
  const store = await openContentStore(join(directory, 'store'));
  const broken: LayerEntry = { path: 'f', type: 'file', mode: 0o644, uid: 0, gid: 0, mtime: 0, size: 10, content: () => Readable.from([Buffer.from('short')]) };
  await t.throwsAsync(writeLayerBlob(writeLayerTar([broken]), await store.writer(), 'gzip'), { instanceOf: IntegrityError });
  t.deepEqual(await readdir(join(directory, 'store', 'ingest')), []);
  const blobs = [];
  for await (const blob of store.list()) blobs.push(blob);
  t.deepEqual(blobs, []);
});

test('decompressLayer of a CLI-made xz blob gives sha256sum of the tar as DiffID', async (t) => {
  const directory = await tmp(t);
  await writeFile(join(directory, 'layer.tar'), await bytesOf(writeLayerTar(entries())));
  await run('xz', ['-k', '-T1', join(directory, 'layer.tar')]);
  const { tar, done } = decompressLayer(createReadStream(join(directory, 'layer.tar.xz')), 'xz');
  await bytesOf(tar);
  const { diffId, digest } = await done;
  t.is(diffId as string, await sha256sum(join(directory, 'layer.tar')));
  t.is(digest as string, await sha256sum(join(directory, 'layer.tar.xz')));
});

test('a truncated gzip layer fails the tar reader with IntegrityError', async (t) => {
  const { blob } = compressLayer(writeLayerTar(entries()), 'gzip');
  const compressed = await bytesOf(blob);
  const { tar, done } = decompressLayer(Readable.from([compressed.subarray(0, compressed.length - 40)]), 'gzip');
  const error = await t.throwsAsync(
    (async () => {
      for await (const entry of readLayerTar(tar)) await bytesOf(entry.body);
    })(),
    { instanceOf: IntegrityError },
  );
  t.regex(error.message, /corrupt gzip data|truncated/);
  await t.throwsAsync(done);
});
