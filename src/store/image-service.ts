import { Transform, PassThrough, type Readable, type Writable } from 'node:stream';
import type { Digest } from '../content/index.ts';
import { IntegrityError, InputError, UsageError } from '../errors/index.ts';
import {
  composeImage,
  familiarString,
  formatReference,
  hostArchitecture,
  MediaType,
  parseReference,
  readArchive,
  withDefaultTag,
  writeArchive,
  type ArchiveImage,
  type ArchivedImage,
  type Descriptor,
  type DiffId,
  type ImageConfig,
  validateImage,
} from '../image/index.ts';
import { decompress, decompressLayer, readLayerTar, sniffCompression, writeLayerBlob } from '../image/layer/index.ts';
import type { ImageStore } from './image-store.ts';
import type { ImageRecord, LayerRecord } from './records.ts';
import { resolveImage } from './resolve.ts';

/** Options of {@link importRootfs}. */
export interface ImportOptions {
  /** The tag to record, as the user wrote it; none leaves the image untagged. */
  readonly ref?: string;
  /** Names the source in the history comment (`Imported from FILE`). */
  readonly sourceName: string;
  /** Adjusts the config before it is written (the CLI passes `--change` through here). */
  readonly configure?: (config: ImageConfig) => ImageConfig;
  /** Seconds since the epoch for `created` (SOURCE_DATE_EPOCH); now when omitted. */
  readonly epoch?: number;
  readonly signal?: AbortSignal;
}

/** An image recorded by import or load, with the tags set on it. */
export interface Recorded {
  readonly id: Digest;
  readonly manifest: Digest;
  readonly tags: readonly string[];
}

/**
 * `kiln import`: a root filesystem tar (plain, gzip, zstd, bzip2 or xz, detected by
 * content) becomes a single-layer image, as `docker import` makes one. The tar is checked
 * entry by entry as it streams, hashed (the DiffID) and stored gzip-compressed, in one pass.
 * Nothing is recorded unless all of it succeeds.
 */
export async function importRootfs(store: ImageStore, source: Readable, options: ImportOptions): Promise<Recorded> {
  const name = options.ref === undefined ? undefined : normaliseName(options.ref);
  const signal = options.signal;
  // The config changes are checked before any byte is stored, so a bad --change stores nothing.
  options.configure?.(importConfig(options, []));
  const lease = await store.lease();
  try {
    const sniffed = await sniffCompression(source, signal ? { signal } : {});
    const decompressed = decompressLayer(sniffed.stream, sniffed.compression, signal ? { signal } : {});
    const check = checkedTar(options.sourceName, signal);
    decompressed.tar.on('error', (error) => check.tee.destroy(error));
    const writer = await store.content.writer();
    const [blob] = await Promise.all([
      writeLayerBlob(decompressed.tar.pipe(check.tee), writer, 'gzip', signal ? { signal } : {}),
      check.done,
    ]);
    return await recordImport(store, blob, check.size(), name, options);
  } finally {
    await lease.release();
  }
}

async function recordImport(
  store: ImageStore,
  blob: { digest: Digest; size: number; diffId: DiffId },
  uncompressedSize: number,
  name: string | undefined,
  options: ImportOptions,
): Promise<Recorded> {
  const base = importConfig(options, [blob.diffId]);
  const created = base.created;
  const config = options.configure === undefined ? base : options.configure(base);
  const composed = await composeImage(
    store.content,
    config,
    [{ mediaType: MediaType.ociLayerGzip, digest: blob.digest, size: blob.size }],
    'oci',
  );
  const record = await store.recordImage({
    config: composed.config,
    layers: [{ diffId: blob.diffId, size: uncompressedSize }],
    manifest: composed.manifest,
    created,
  });
  if (name !== undefined) await store.setTag(name, record.id, 'import', composed.manifest.digest);
  return { id: record.id, manifest: composed.manifest.digest, tags: name === undefined ? [] : [name] };
}

/** The config `docker import` writes: one layer, no runtime settings, one history entry. */
function importConfig(options: ImportOptions, diffIds: readonly DiffId[]): ImageConfig & { created: string } {
  const created = new Date(options.epoch === undefined ? Date.now() : options.epoch * 1000).toISOString();
  return {
    created,
    architecture: hostArchitecture(),
    os: 'linux',
    config: {},
    rootfs: { type: 'layers', diff_ids: diffIds },
    history: [{ created, created_by: 'kiln import', comment: `Imported from ${options.sourceName}` }],
  };
}

/**
 * `kiln load`: images from an OCI layout tar or a docker archive, itself plain or
 * compressed (gzip, zstd, bzip2, xz). Every layer is
 * decompressed and read through to check its DiffID against the config and its tar
 * structure; only when every image checks out are images recorded and names tagged.
 */
export async function loadArchive(
  store: ImageStore,
  source: Readable,
  options: { readonly signal?: AbortSignal; readonly sourceName: string },
): Promise<Recorded[]> {
  const lease = await store.lease();
  const added: Digest[] = [];
  try {
    // `docker save | gzip` and the like: the archive itself may be compressed, any codec.
    const sniffed = await sniffCompression(source, options.signal ? { signal: options.signal } : {});
    const tar =
      sniffed.compression === 'uncompressed'
        ? sniffed.stream
        : decompress(sniffed.stream, sniffed.compression, options.signal ? { signal: options.signal } : {});
    const images = await readArchive(store.content, tar, {
      ...(options.signal ? { signal: options.signal } : {}),
      reused: (digest) => store.touch(digest),
      added: (digest) => added.push(digest),
    });
    if (images.length === 0) throw new InputError(`${options.sourceName}: the archive holds no image`);
    const checked: { image: ArchivedImage; layers: LayerRecord[]; names: string[] }[] = [];
    for (const image of images) {
      const valid = await validateImage(store.content, image.manifest, { deep: true, ...(options.signal ? { signal: options.signal } : {}) });
      const layers = valid.config.rootfs.diff_ids.map((diffId, i) => ({ diffId, size: valid.layerSizes?.[i] ?? 0 }));
      checked.push({ image, layers, names: normaliseNames(image.names) });
    }
    const recorded: Recorded[] = [];
    for (const { image, layers, names } of checked) {
      const record = await store.recordImage({
        config: image.manifestJson.config,
        layers,
        manifest: image.manifest,
        created: image.config.created,
      });
      for (const n of names) await store.setTag(n, record.id, 'load', image.manifest.digest);
      recorded.push({ id: record.id, manifest: image.manifest.digest, tags: names });
    }
    return recorded;
  } catch (error) {
    await store.discard(added);
    throw error;
  } finally {
    await lease.release();
  }
}

/**
 * `kiln save`: the named images as one tar, at once an OCI layout and a docker archive. An
 * image named by a tag carries that name; one named by ID or digest carries none. The
 * manifest written is the one `forms` names for the image ID, else the one the tag's version
 * names, else the image's latest form.
 */
export async function saveImages(
  store: ImageStore,
  names: readonly string[],
  out: Writable,
  signal?: AbortSignal,
  forms?: ReadonlyMap<string, Digest>,
): Promise<void> {
  if (names.length === 0) throw new UsageError('kiln save needs at least one image');
  const images: ArchiveImage[] = [];
  for (const text of names) {
    const resolved = await resolveImage(store, text);
    const manifest = pickManifest(resolved.record, forms?.get(resolved.record.id) ?? resolved.manifest);
    const manifestJson = JSON.parse((await store.content.read(manifest.digest)).toString('utf8'));
    const existing = images.find((i) => i.manifest.digest === manifest.digest);
    const tag = resolved.tag;
    if (existing !== undefined) {
      if (tag !== undefined && !existing.names.includes(tag)) {
        images[images.indexOf(existing)] = {
          ...existing,
          names: [...existing.names, tag],
          familiarNames: [...existing.familiarNames, familiarString(parseReference(tag))],
        };
      }
      continue;
    }
    images.push({
      manifest,
      manifestJson,
      names: tag === undefined ? [] : [tag],
      familiarNames: tag === undefined ? [] : [familiarString(parseReference(tag))],
    });
  }
  await writeArchive(store.content, images, out, signal);
}

/**
 * The form of `record` an export writes unless told otherwise: the manifest `wanted` names
 * (a tag version's, a digest the user gave), else the latest form recorded.
 * @throws IntegrityError when the record holds no manifest.
 */
export function pickManifest(record: ImageRecord, wanted: Digest | undefined): Descriptor {
  const found = record.manifests.find((m) => m.digest === wanted) ?? record.manifests[record.manifests.length - 1];
  if (found === undefined) throw new IntegrityError(`image ${record.id} has no manifest recorded`);
  return found;
}

/**
 * A pass-through that also feeds a tar reader, so a layer's structure is checked (every
 * header, every body read to its length, the end-of-archive blocks) while it streams to
 * wherever it goes; it waits for the slower of the two, so memory stays bounded.
 */
function checkedTar(name: string, signal: AbortSignal | undefined) {
  const side = new PassThrough({ highWaterMark: 1 << 20 });
  let size = 0;
  let ended = false;
  const tee = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      size += chunk.length;
      if (side.write(chunk)) callback(null, chunk);
      else side.once('drain', () => callback(null, chunk));
    },
    flush(callback) {
      ended = true;
      side.end();
      callback();
    },
    destroy(error, callback) {
      // After a clean end downstream closes the tee while the checker may still be reading
      // what `side` holds: only a failure, or a close before the end, stops the checker.
      if (error !== null) side.destroy(error);
      else if (!ended) side.destroy(new Error(`${name}: the stream closed before its end`));
      callback(error);
    },
  });
  const done = (async () => {
    for await (const entry of readLayerTar(side, { name, ...(signal ? { signal } : {}) })) {
      for await (const _chunk of entry.body);
    }
  })();
  done.catch((error: Error) => tee.destroy(error));
  return { tee, done, size: () => size };
}

/** A user's image name, normalised, `latest` added: the form tags are stored under. */
export function normaliseName(text: string): string {
  const ref = parseReference(text);
  if (ref.digest !== undefined) throw new UsageError(`${text}: a tag cannot hold a digest`);
  return formatReference(withDefaultTag(ref));
}

function normaliseNames(names: readonly string[]): string[] {
  const result: string[] = [];
  for (const n of names) {
    try {
      const normal = normaliseName(n);
      if (!result.includes(normal)) result.push(normal);
    } catch {
      // A name that is not a valid reference (a bare OCI ref.name) names nothing.
    }
  }
  return result;
}
