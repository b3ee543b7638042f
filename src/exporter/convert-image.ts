import type { Digest } from '../content/index.ts';
import { IntegrityError, InternalError } from '../errors/index.ts';
import {
  decodeManifest,
  dockerLayerMediaType,
  layerCompression,
  MediaType,
  ociLayerMediaType,
  validateImage,
  type Descriptor,
  type Manifest,
} from '../image/index.ts';
import { decompress, writeLayerBlob, type WritableCompression } from '../image/layer/index.ts';
import type { ImageRecord, ImageStore } from '../store/index.ts';

/** An image in one of its forms: what {@link convertImage} starts from. */
export interface ImageForm {
  readonly record: ImageRecord;
  /** The form's manifest media type: its layers' media types follow it (OCI or Docker). */
  readonly mediaType: string;
  /** The form's layer blobs, in the order of the record's layers (rootfs.diff_ids). */
  readonly layers: readonly Descriptor[];
}

/** Options of {@link convertImage} and {@link needsConversion}. */
export interface ConvertOptions {
  /**
   * Every layer in another codec is converted to the one asked for (an explicit
   * `compression=`). Without it only uncompressed layers are compressed and layers already
   * compressed are kept as they are, as BuildKit's exporters do unless force-compression is set.
   */
  readonly force?: boolean;
  readonly signal?: AbortSignal;
}

/**
 * The form of `image` whose layers are in `compression` (see {@link ConvertOptions.force} for
 * which layers are converted), as a manifest in the store. A form already recorded with those
 * layers is reused, so each layer is compressed once per codec however often the image is
 * exported; else each layer to convert is read from the store (decompressed when it is
 * compressed) and written in the new codec, its DiffID checked, and a new manifest with the
 * same config is recorded as one more form of the image (its ID does not change). Returns that
 * manifest's digest.
 * @throws IntegrityError when a layer does not read back to its DiffID.
 */
export async function convertImage(store: ImageStore, image: ImageForm, compression: WritableCompression, options: ConvertOptions = {}): Promise<Digest> {
  const { record } = image;
  if (image.layers.length !== record.layers.length) throw new InternalError(`image ${record.id}: a form with ${image.layers.length} layers for ${record.layers.length} DiffIDs`);
  const docker = image.mediaType === MediaType.dockerManifest;
  const wanted = docker ? dockerLayerMediaType(compression) : ociLayerMediaType(compression);
  const keep = (layer: Descriptor): boolean => keepsLayer(layer, compression, options.force === true);
  const latest = await store.image(record.id);
  for (const form of latest?.manifests ?? []) {
    if (form.mediaType !== image.mediaType) continue;
    const manifest = decodeManifest(await store.content.read(form.digest), `manifest ${form.digest}`);
    const matches =
      manifest.layers.length === image.layers.length &&
      manifest.layers.every((l, i) => {
        const from = image.layers[i]!;
        return keep(from) ? l.digest === from.digest : l.mediaType === wanted;
      });
    if (matches) return form.digest;
  }
  const converted: Descriptor[] = [];
  for (const [i, layer] of image.layers.entries()) {
    if (keep(layer)) {
      converted.push(layer);
      continue;
    }
    options.signal?.throwIfAborted();
    const diffId = record.layers[i]!.diffId;
    const from = layerCompression(layer.mediaType) ?? 'gzip';
    const withSignal = options.signal === undefined ? {} : { signal: options.signal };
    // The store's read fails at its end unless the bytes hash to the blob's digest: for an
    // uncompressed blob that digest is the DiffID, so the tar need not be hashed again.
    const blob = store.content.open(layer.digest);
    const tar = from === 'uncompressed' ? blob : decompress(blob, from, { name: layer.digest, ...withSignal });
    const verified = from === 'uncompressed' && (layer.digest as string) === (diffId as string);
    const written = await writeLayerBlob(tar, await store.content.writer(), compression, { ...withSignal, ...(verified ? { diffId } : {}) });
    if (written.diffId !== diffId) {
      throw new IntegrityError(`layer ${layer.digest} reads back as ${written.diffId}, not its DiffID ${diffId}`);
    }
    converted.push({ mediaType: wanted, digest: written.digest, size: written.size });
  }
  const manifest: Manifest = {
    schemaVersion: 2,
    mediaType: image.mediaType,
    config: record.config,
    layers: converted,
  };
  const info = await store.content.put(JSON.stringify(manifest));
  const descriptor: Descriptor = { mediaType: image.mediaType, digest: info.digest, size: info.size };
  await validateImage(store.content, descriptor);
  await store.recordImage({ config: record.config, layers: record.layers, manifest: descriptor, created: record.created });
  return info.digest;
}

/** Whether any layer of `image` is not yet in the form {@link convertImage} would make. */
export function needsConversion(image: ImageForm, compression: WritableCompression, options: ConvertOptions = {}): boolean {
  return image.layers.some((layer) => !keepsLayer(layer, compression, options.force === true));
}

/** A layer kept as it is: already in `compression`, or (unforced) compressed at all. */
function keepsLayer(layer: Descriptor, compression: WritableCompression, force: boolean): boolean {
  const codec = layerCompression(layer.mediaType) ?? 'gzip';
  return codec === compression || (!force && codec !== 'uncompressed');
}

/**
 * The form of a recorded image that manifest `digest` names, read from the store, with the
 * image's record.
 */
export async function imageForm(store: ImageStore, record: ImageRecord, manifest: Descriptor): Promise<ImageForm> {
  const json = decodeManifest(await store.content.read(manifest.digest), `manifest ${manifest.digest}`);
  return { record, mediaType: manifest.mediaType, layers: json.layers };
}
