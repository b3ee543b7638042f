import { digestOf, type Digest } from '../content/index.ts';
import { IntegrityError } from '../errors/index.ts';
import { composeImage, decodeManifest, layerCompression, MediaType, ociLayerMediaType, validateImage, type Descriptor, type ImageConfig } from '../image/index.ts';
import { decompressLayer, writeLayerBlob, type WritableCompression } from '../image/layer/index.ts';
import type { LayerRef } from '../cache/index.ts';
import type { ImageStore } from '../store/index.ts';

/**
 * Writes the image `config` with `layers` in another compression: each layer whose blob is
 * in another codec is decompressed and compressed again (its DiffID checked), then a new
 * manifest is composed and recorded as one more form of the same image (the image ID, its
 * config digest, does not change). Returns the new manifest's digest.
 * @throws IntegrityError when a layer does not decompress to its DiffID.
 */
export async function convertImage(
  store: ImageStore,
  config: ImageConfig,
  layers: readonly LayerRef[],
  compression: WritableCompression,
  signal?: AbortSignal,
): Promise<Digest> {
  // A form already written in that codec is reused: conversion happens once per image and codec.
  const record = await store.image(digestOf(JSON.stringify(config)));
  for (const form of record?.manifests ?? []) {
    if (form.mediaType !== MediaType.ociManifest) continue;
    const manifest = decodeManifest(await store.content.read(form.digest), `manifest ${form.digest}`);
    if (manifest.layers.length === layers.length && manifest.layers.every((l) => l.mediaType === ociLayerMediaType(compression))) {
      return form.digest;
    }
  }
  const converted: Descriptor[] = [];
  for (const layer of layers) {
    const from = layerCompression(layer.descriptor.mediaType) ?? 'gzip';
    if (from === compression) {
      converted.push(layer.descriptor);
      continue;
    }
    const { tar } = decompressLayer(store.content.open(layer.descriptor.digest), from, signal === undefined ? {} : { signal });
    const writer = await store.content.writer();
    const blob = await writeLayerBlob(tar, writer, compression, signal === undefined ? {} : { signal });
    if (blob.diffId !== layer.diffId) {
      throw new IntegrityError(`layer ${layer.descriptor.digest} decompresses to ${blob.diffId}, not its DiffID ${layer.diffId}`);
    }
    converted.push({ mediaType: ociLayerMediaType(compression), digest: blob.digest, size: blob.size });
  }
  const composed = await composeImage(store.content, config, converted, 'oci');
  await validateImage(store.content, composed.manifest);
  await store.recordImage({
    config: composed.config,
    layers: layers.map((l) => ({ diffId: l.diffId, size: l.size })),
    manifest: composed.manifest,
    created: config.created,
  });
  return composed.manifest.digest;
}
