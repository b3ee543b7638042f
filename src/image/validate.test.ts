import test from 'ava';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { openContentStore, type ContentStore } from '../content/index.ts';
import { IntegrityError, InputError } from '../errors/index.ts';
import { composeImage } from './compose.ts';
import { writeLayerBlob, writeLayerTar } from './layer/index.ts';
import { MediaType } from './media-types.ts';
import type { Descriptor, DiffId, ImageConfig } from './oci.ts';
import { validateImage } from './validate.ts';

async function image(content: ContentStore, diffIds?: (real: DiffId) => DiffId[]) {
  const tar = writeLayerTar(
    Readable.from([{ path: 'hello', type: 'file' as const, mode: 0o644, uid: 0, gid: 0, mtime: 0, size: 3, content: () => Readable.from([Buffer.from('hi\n')]) }]),
  );
  const blob = await writeLayerBlob(tar, await content.writer(), 'gzip');
  const config: ImageConfig = {
    architecture: 'amd64',
    os: 'linux',
    rootfs: { type: 'layers', diff_ids: diffIds ? diffIds(blob.diffId) : [blob.diffId] },
  };
  const layer: Descriptor = { mediaType: MediaType.ociLayerGzip, digest: blob.digest, size: blob.size };
  return composeImage(content, config, [layer]);
}

test('a well-formed image validates, deep included, with its uncompressed layer sizes', async (t) => {
  const content = await openContentStore(await mkdtemp(join(tmpdir(), 'kiln-validate-')));
  const { manifest } = await image(content);
  const valid = await validateImage(content, manifest, { deep: true });
  t.is(valid.manifest.layers.length, 1);
  t.is(valid.layerSizes?.[0], 2048, 'one header block, one data block, two zero blocks');
});

test('a config whose diff_ids disagree with the layer fails deep validation', async (t) => {
  const content = await openContentStore(await mkdtemp(join(tmpdir(), 'kiln-validate-')));
  const wrong = `sha256:${'0'.repeat(64)}` as DiffId;
  const { manifest } = await image(content, () => [wrong]);
  await validateImage(content, manifest);
  await t.throwsAsync(validateImage(content, manifest, { deep: true }), { instanceOf: IntegrityError, message: /layers\[0\]: DiffID .* config says sha256:0{64}/ });
});

test('a diff_ids count that differs from the layers fails, naming both counts', async (t) => {
  const content = await openContentStore(await mkdtemp(join(tmpdir(), 'kiln-validate-')));
  const { manifest } = await image(content, (real) => [real, real]);
  await t.throwsAsync(validateImage(content, manifest), { instanceOf: InputError, message: /1 layers, but the config lists 2 diff_ids/ });
});

test('a missing layer blob and an index given as a manifest are refused', async (t) => {
  const content = await openContentStore(await mkdtemp(join(tmpdir(), 'kiln-validate-')));
  const { manifest, manifestJson } = await image(content);
  const layer = manifestJson.layers[0];
  if (layer === undefined) throw new Error('no layer');
  await content.delete(layer.digest);
  await t.throwsAsync(validateImage(content, manifest), { instanceOf: InputError, message: /is missing/ });
  await t.throwsAsync(validateImage(content, { ...manifest, mediaType: MediaType.ociIndex }), { instanceOf: InputError });
});
