import test from 'ava';
import { execFile } from 'node:child_process';
import { chmod, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { promisify } from 'node:util';
import { gunzipSync } from 'node:zlib';
import { createHash } from 'node:crypto';
import { digestHex } from '../content/index.ts';
import { IntegrityError } from '../errors/index.ts';
import { composeImage, decodeManifest, MediaType, type Descriptor, type DiffId, type ImageConfig } from '../image/index.ts';
import { writeLayerBlob, writeLayerTar, type LayerEntry, type WritableCompression } from '../image/layer/index.ts';
import { ImageStore } from '../store/index.ts';
import { convertImage, imageForm } from './convert-image.ts';
import { exportImages } from './export-images.ts';

const run = promisify(execFile);

/*
 * The export path on a real store: an image whose layers a build stored uncompressed is
 * written gzip by an export, which records that form once; later exports reuse it. The
 * archives are read back by gunzip, skopeo and umoci (Go's gzip and tar readers).
 */

async function tmp(t: { teardown(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'kiln-export-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** A layer of `files` (name → content): a directory `name` holding them. */
function entries(name: string, files: Record<string, Buffer>): LayerEntry[] {
  const out: LayerEntry[] = [{ path: name, type: 'dir', mode: 0o755, uid: 0, gid: 0, mtime: 1 }];
  for (const [file, body] of Object.entries(files).sort(([a], [b]) => (a < b ? -1 : 1))) {
    out.push({ path: `${name}/${file}`, type: 'file', mode: 0o644, uid: 0, gid: 0, mtime: 1, size: body.length, content: () => Readable.from([body]) });
  }
  return out;
}

/** About `size` bytes of compressible text: spans several of the gzip writer's 1 MiB pieces when large. */
function text(size: number, seed: number): Buffer {
  const parts: string[] = [];
  let length = 0;
  for (let x = seed; length < size; ) {
    x = (x * 1_103_515_245 + 12_345) % 2 ** 31;
    const line = `${x.toString(36)} ${'kiln '.repeat(x % 9)}\n`;
    parts.push(line);
    length += line.length;
  }
  return Buffer.from(parts.join(''));
}

interface Stored {
  readonly store: ImageStore;
  readonly id: string;
  readonly diffIds: readonly DiffId[];
  readonly layers: readonly Descriptor[];
  readonly files: Record<string, Buffer>;
}

/**
 * A store holding `app:1`: a gzip base layer (as import writes) under two layers stored
 * uncompressed (as a build commits them), the second large.
 */
async function storedImage(dir: string): Promise<Stored> {
  const store = await ImageStore.open(join(dir, 'root'));
  const files = { 'a.txt': text(10_000, 1), 'big.txt': text(3 * (1 << 20) + 1234, 2) };
  const layers: Descriptor[] = [];
  const diffIds: DiffId[] = [];
  const add = async (layerEntries: LayerEntry[], compression: WritableCompression) => {
    const blob = await writeLayerBlob(writeLayerTar(layerEntries), await store.content.writer(), compression);
    layers.push({ mediaType: compression === 'gzip' ? MediaType.ociLayerGzip : MediaType.ociLayer, digest: blob.digest, size: blob.size });
    diffIds.push(blob.diffId);
  };
  await add(entries('base', { 'os-release': Buffer.from('kiln test\n') }), 'gzip');
  await add(entries('app', { 'a.txt': files['a.txt'] }), 'uncompressed');
  await add(entries('data', { 'big.txt': files['big.txt'] }), 'uncompressed');
  const config: ImageConfig = { architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: diffIds } };
  const composed = await composeImage(store.content, config, layers, 'oci');
  const record = await store.recordImage({
    config: composed.config,
    layers: diffIds.map((diffId) => ({ diffId, size: 0 })),
    manifest: composed.manifest,
    created: undefined,
  });
  await store.setTag('docker.io/library/app:1', record.id, 'build', composed.manifest.digest);
  return { store, id: record.id, diffIds, layers, files };
}

async function save(store: ImageStore, path: string, names: readonly string[] = ['app:1']): Promise<Buffer> {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (chunk: Buffer) => chunks.push(chunk));
  await exportImages(store, names, out);
  await writeFile(path, Buffer.concat(chunks));
  return Buffer.concat(chunks);
}

async function blobCount(store: ImageStore): Promise<number> {
  return (await readdir(join(store.root, 'blobs', 'sha256'))).length;
}

/** The manifest skopeo reads from an OCI archive. */
async function archivedManifest(path: string): Promise<{ layers: Descriptor[] }> {
  const { stdout } = await run('skopeo', ['inspect', '--raw', `oci-archive:${path}`]);
  return JSON.parse(stdout) as { layers: Descriptor[] };
}

test('an export writes the uncompressed layers gzip and keeps a gzip layer as it is; gunzip, skopeo and umoci read it back', async (t) => {
  const dir = await tmp(t);
  const { store, diffIds, layers, files } = await storedImage(dir);
  const archive = join(dir, 'app.tar');
  await save(store, archive);
  const manifest = await archivedManifest(archive);
  t.deepEqual(
    manifest.layers.map((l) => l.mediaType),
    [MediaType.ociLayerGzip, MediaType.ociLayerGzip, MediaType.ociLayerGzip],
  );
  t.is(manifest.layers[0]!.digest, layers[0]!.digest, 'the base layer, already gzip, is written as it is');
  for (const [i, layer] of manifest.layers.entries()) {
    // Each blob in the archive is gzip whose content hashes to the layer's DiffID.
    const { stdout } = await run('tar', ['-xOf', archive, `blobs/sha256/${digestHex(layer.digest)}`], { encoding: 'buffer', maxBuffer: 1 << 26 });
    t.is(`sha256:${createHash('sha256').update(stdout).digest('hex')}`, layer.digest);
    t.is(`sha256:${createHash('sha256').update(gunzipSync(stdout)).digest('hex')}`, String(diffIds[i]));
  }
  const layout = join(dir, 'layout');
  await run('skopeo', ['copy', '-q', `oci-archive:${archive}`, `oci:${layout}:app`]);
  await run('umoci', ['unpack', '--image', `${layout}:app`, join(dir, 'bundle')]);
  t.true((await readFile(join(dir, 'bundle', 'rootfs', 'data', 'big.txt'))).equals(files['big.txt']!));
  t.true((await readFile(join(dir, 'bundle', 'rootfs', 'app', 'a.txt'))).equals(files['a.txt']!));
  // The docker archive view of the same tar, as docker load reads it.
  const { stdout } = await run('skopeo', ['inspect', '--config', `docker-archive:${archive}`]);
  t.deepEqual((JSON.parse(stdout) as { rootfs: { diff_ids: string[] } }).rootfs.diff_ids, diffIds);
});

test('the first export records the gzip form; a second export adds no blob and writes the same bytes', async (t) => {
  const dir = await tmp(t);
  const { store, id } = await storedImage(dir);
  const before = await blobCount(store);
  const first = await save(store, join(dir, 'first.tar'));
  const record = await store.image(id as never);
  t.is(record?.manifests.length, 2, 'the form the build recorded, and the gzip form beside it');
  t.is(await blobCount(store), before + 3, 'two gzip layers and a manifest');
  const second = await save(store, join(dir, 'second.tar'));
  t.true(second.equals(first));
  t.is(await blobCount(store), before + 3);
  t.is((await store.image(id as never))?.manifests.length, 2);
  // By ID too: the image's latest form is already gzip.
  t.true((await save(store, join(dir, 'by-id.tar'), [id])).length > 0);
  t.is(await blobCount(store), before + 3);
});

test('the same layers give the same gzip blob in two stores: the compression is deterministic', async (t) => {
  const one = await storedImage(await tmp(t));
  const two = await storedImage(await tmp(t));
  const a = await save(one.store, join(await tmp(t), 'a.tar'));
  const b = await save(two.store, join(await tmp(t), 'b.tar'));
  t.true(a.equals(b));
});

test('an uncompressed layer whose blob changed on disk fails the export with IntegrityError and records nothing', async (t) => {
  const dir = await tmp(t);
  const { store, id, layers } = await storedImage(dir);
  const path = join(store.root, 'blobs', 'sha256', digestHex(layers[2]!.digest));
  const bytes = await readFile(path);
  bytes[1000] = bytes[1000]! ^ 1;
  await chmod(path, 0o644);
  await writeFile(path, bytes);
  await t.throwsAsync(save(store, join(dir, 'bad.tar')), { instanceOf: IntegrityError });
  t.is((await store.image(id as never))?.manifests.length, 1);
});

test('an explicit codec converts every layer, the gzip base too; the form is reused after', async (t) => {
  const dir = await tmp(t);
  const { store, id, diffIds } = await storedImage(dir);
  const record = (await store.image(id as never))!;
  const form = await imageForm(store, record, record.manifests[0]!);
  const zstd = await convertImage(store, form, 'zstd', { force: true });
  const manifest = decodeManifest(await store.content.read(zstd), 'zstd form');
  t.deepEqual(new Set(manifest.layers.map((l) => l.mediaType)), new Set([MediaType.ociLayerZstd]));
  t.is(await convertImage(store, form, 'zstd', { force: true }), zstd);
  // Forced to uncompressed: the gzip base is decompressed, and every digest is a DiffID.
  const plain = await convertImage(store, form, 'uncompressed', { force: true });
  const plainManifest = decodeManifest(await store.content.read(plain), 'plain form');
  t.deepEqual(plainManifest.layers.map((l) => l.digest as string), [...diffIds]);
  t.is((await store.image(id as never))?.manifests.length, 3);
});
