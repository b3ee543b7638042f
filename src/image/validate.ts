import { Transform } from 'node:stream';
import type { ContentStore } from '../content/index.ts';
import { IntegrityError, InputError } from '../errors/index.ts';
import { decodeImageConfig, decodeManifest } from './decode.ts';
import { decompressLayer, readLayerTar } from './layer/index.ts';
import { layerCompression, MediaType } from './media-types.ts';
import type { Descriptor, DiffId, ImageConfig, Manifest } from './oci.ts';

/** What {@link validateImage} checked, for callers that want the pieces. */
export interface ValidImage {
  readonly manifest: Manifest;
  readonly config: ImageConfig;
  /** Uncompressed layer sizes, when `deep` read the layers. */
  readonly layerSizes: readonly number[] | undefined;
}

/**
 * Checks an image in the content store the way go-containerregistry's validate.Image does:
 * the manifest decodes and is a manifest; the config blob has the digest and size its
 * descriptor says and decodes, with as many rootfs.diff_ids as the manifest has layers;
 * every layer has a known layer media type and is present with its descriptor's size.
 * With `deep`, every layer is also decompressed and read as a tar, and its DiffID compared
 * with the config's. Every blob read is verified against its digest by the store.
 * @throws InputError or IntegrityError naming the document and field at fault.
 */
export async function validateImage(
  content: ContentStore,
  manifest: Descriptor,
  options: { readonly deep?: boolean; readonly signal?: AbortSignal } = {},
): Promise<ValidImage> {
  if (manifest.mediaType !== MediaType.ociManifest && manifest.mediaType !== MediaType.dockerManifest) {
    throw new InputError(`manifest ${manifest.digest}: media type ${JSON.stringify(manifest.mediaType)} is not an image manifest`);
  }
  const where = `manifest ${manifest.digest}`;
  const manifestBytes = await readSized(content, manifest, where);
  const decoded = decodeManifest(manifestBytes, where);
  const config = decodeImageConfig(await readSized(content, decoded.config, `${where}: config`), `config ${decoded.config.digest}`);
  if (config.rootfs.diff_ids.length !== decoded.layers.length) {
    throw new InputError(`${where}: ${decoded.layers.length} layers, but the config lists ${config.rootfs.diff_ids.length} diff_ids`);
  }
  const sizes: number[] = [];
  for (const [i, layer] of decoded.layers.entries()) {
    const at = `${where}: layers[${i}]`;
    const compression = layerCompression(layer.mediaType);
    if (compression === undefined) throw new InputError(`${at}.mediaType: ${JSON.stringify(layer.mediaType)} is not a layer media type`);
    const info = await content.info(layer.digest);
    if (info === undefined) throw new InputError(`${at}: blob ${layer.digest} is missing`);
    if (info.size !== layer.size) throw new IntegrityError(`${at}: blob ${layer.digest} has ${info.size} bytes, the descriptor says ${layer.size}`);
    if (options.deep !== true) continue;
    const { diffId, size } = await readLayer(content, layer, compression, at, options.signal);
    const expected: DiffId | undefined = config.rootfs.diff_ids[i];
    if (diffId !== expected) throw new IntegrityError(`${at}: DiffID ${diffId}, but the config says ${expected}`);
    sizes.push(size);
  }
  return { manifest: decoded, config, layerSizes: options.deep === true ? sizes : undefined };
}

async function readSized(content: ContentStore, descriptor: Descriptor, where: string): Promise<Buffer> {
  const bytes = await content.read(descriptor.digest);
  if (bytes.length !== descriptor.size) {
    throw new IntegrityError(`${where}: blob ${descriptor.digest} has ${bytes.length} bytes, the descriptor says ${descriptor.size}`);
  }
  return bytes;
}

async function readLayer(
  content: ContentStore,
  layer: Descriptor,
  compression: NonNullable<ReturnType<typeof layerCompression>>,
  where: string,
  signal: AbortSignal | undefined,
): Promise<{ diffId: DiffId; size: number }> {
  const decompressed = decompressLayer(content.open(layer.digest), compression, { name: where, ...(signal ? { signal } : {}) });
  let size = 0;
  const counted = decompressed.tar.pipe(
    new Transform({
      transform(chunk: Buffer, _encoding, done) {
        size += chunk.length;
        done(null, chunk);
      },
    }),
  );
  decompressed.tar.on('error', (error) => counted.destroy(error));
  for await (const entry of readLayerTar(counted, { name: where, ...(signal ? { signal } : {}) })) {
    for await (const _chunk of entry.body);
  }
  const { diffId } = await decompressed.done;
  return { diffId, size };
}
