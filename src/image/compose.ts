import type { ContentStore } from '../content/index.ts';
import { MediaType } from './media-types.ts';
import type { Descriptor, ImageConfig, Manifest } from './oci.ts';

/** Which media types an image is written with. */
export type ImageFormat = 'oci' | 'docker';

/** A layer blob already in the content store. */
export interface StoredLayer {
  readonly blob: Descriptor;
}

/** The two documents that make an image out of its layers. */
export interface ComposedImage {
  readonly config: Descriptor;
  readonly manifest: Descriptor;
  readonly manifestJson: Manifest;
}

/**
 * Writes an image's config and manifest into the content store. The JSON is compact and
 * built in a fixed key order, so the same image gives the same digests every time.
 * Layer blobs must already be in the store, and `config.rootfs.diff_ids` must list their
 * DiffIDs in order.
 */
export async function composeImage(
  content: ContentStore,
  config: ImageConfig,
  layers: readonly Descriptor[],
  format: ImageFormat = 'oci',
): Promise<ComposedImage> {
  const configBytes = JSON.stringify(config);
  const configInfo = await content.put(configBytes);
  const configDescriptor: Descriptor = {
    mediaType: format === 'oci' ? MediaType.ociConfig : MediaType.dockerConfig,
    digest: configInfo.digest,
    size: configInfo.size,
  };
  const manifest: Manifest = {
    schemaVersion: 2,
    mediaType: format === 'oci' ? MediaType.ociManifest : MediaType.dockerManifest,
    config: configDescriptor,
    layers: layers.map((l) => ({ mediaType: l.mediaType, digest: l.digest, size: l.size })),
  };
  const manifestInfo = await content.put(JSON.stringify(manifest));
  return {
    config: configDescriptor,
    manifest: { mediaType: manifest.mediaType ?? MediaType.ociManifest, digest: manifestInfo.digest, size: manifestInfo.size },
    manifestJson: manifest,
  };
}
