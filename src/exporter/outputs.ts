import { createWriteStream } from 'node:fs';
import { mkdir, readdir, rename, rm } from 'node:fs/promises';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import type { LayerRef } from '../cache/index.ts';
import { InternalError, UsageError } from '../errors/index.ts';
import { layerCompression, MediaType, type ImageConfig } from '../image/index.ts';
import { applyLayer } from '../image/apply/index.ts';
import { decompressLayer, type WritableCompression } from '../image/layer/index.ts';
import { saveImages, type ImageStore } from '../store/index.ts';
import type { Digest } from '../content/index.ts';
import { convertImage, type ImageForm } from './convert-image.ts';

/**
 * Where a build's result goes besides the store (`--output`, buildx's names):
 * `oci`/`docker` one tar (the one `kiln save` writes: an OCI layout and a docker archive at
 * once) at `dest` (`-`: standard output); `local` the final file system in a directory;
 * `tar` that file system as a tar.
 */
export type BuildOutput =
  | {
      readonly type: 'image';
      readonly rewriteTimestamp: boolean;
      readonly compression: WritableCompression | undefined;
      /** `name=` tags (comma-separated in buildx, `name=a,name=b` too), as `-t` would. */
      readonly names: readonly string[];
    }
  | { readonly type: 'oci' | 'docker'; readonly dest: string; readonly rewriteTimestamp: boolean; readonly compression: WritableCompression | undefined }
  | { readonly type: 'local'; readonly dest: string }
  | { readonly type: 'tar'; readonly dest: string };

/**
 * Parses one `--output` value: `type=oci,dest=out.tar`, `type=local,dest=dir`, or a bare path
 * (buildx: a directory → local). `compression=gzip|zstd|uncompressed` chooses the layer codec
 * of an image output; `rewrite-timestamp=true` clamps the mtimes in new layers to
 * SOURCE_DATE_EPOCH.
 * @throws UsageError naming the key or value that is wrong.
 */
export function parseOutput(text: string): BuildOutput {
  if (!text.includes('=')) return { type: 'local', dest: text };
  const fields = new Map<string, string>();
  const names: string[] = [];
  let key: string | undefined;
  for (const part of text.split(',')) {
    const eq = part.indexOf('=');
    // buildx's name= takes several names separated by commas: a part without `=` after it is one more.
    if (eq < 0 && key === 'name' && part.trim() !== '') {
      names.push(part.trim());
      continue;
    }
    if (eq <= 0) throw new UsageError(`--output ${JSON.stringify(text)}: ${JSON.stringify(part)} is not key=value`);
    key = part.slice(0, eq).trim().toLowerCase();
    if (key === 'name') names.push(part.slice(eq + 1).trim());
    fields.set(key, part.slice(eq + 1).trim());
  }
  const type = fields.get('type');
  const dest = fields.get('dest');
  for (const key of fields.keys()) {
    if (!['type', 'dest', 'compression', 'name', 'oci-mediatypes', 'rewrite-timestamp'].includes(key)) {
      throw new UsageError(`--output ${JSON.stringify(text)}: unknown key ${JSON.stringify(key)}`);
    }
  }
  const rewrite = fields.get('rewrite-timestamp');
  if (rewrite !== undefined && rewrite !== 'true' && rewrite !== 'false') {
    throw new UsageError(`--output ${JSON.stringify(text)}: rewrite-timestamp must be true or false`);
  }
  const rewriteTimestamp = rewrite === 'true';
  const compressionText = fields.get('compression');
  if (compressionText !== undefined && compressionText !== 'gzip' && compressionText !== 'zstd' && compressionText !== 'uncompressed') {
    throw new UsageError(`--output ${JSON.stringify(text)}: compression must be gzip, zstd or uncompressed`);
  }
  const compression = compressionText as WritableCompression | undefined;
  const ociTypes = fields.get('oci-mediatypes');
  if (ociTypes !== undefined && ociTypes !== 'true') {
    // TODO(#6): Docker media types in exported manifests.
    throw new UsageError(`--output ${JSON.stringify(text)}: kiln writes OCI media types (oci-mediatypes=true)`);
  }
  switch (type) {
    case 'image':
      return { type: 'image', rewriteTimestamp, compression, names };
    case 'oci':
    case 'docker':
    case 'local':
    case 'tar':
      if (dest === undefined || dest === '') throw new UsageError(`--output ${JSON.stringify(text)}: type=${type} needs dest=`);
      if (type === 'oci' || type === 'docker') return { type, dest, rewriteTimestamp, compression };
      return { type, dest };
    case undefined:
      throw new UsageError(`--output ${JSON.stringify(text)}: type= is missing`);
    default:
      throw new UsageError(`--output ${JSON.stringify(text)}: unknown type ${JSON.stringify(type)}`, {
        hint: 'types: image, oci, docker, local, tar',
      });
  }
}

/** The image a build recorded, as its outputs need it. */
export interface OutputImage {
  /** Its tags, or its ID when it has none. */
  readonly names: readonly string[];
  readonly id: Digest;
  readonly config: ImageConfig;
  readonly layers: readonly LayerRef[];
}

/**
 * Writes one output of a build's image. An image output with `compression=` records the
 * image's form in that codec too; an oci/docker tar holds the form with every layer in the
 * asked codec, or without one, with the layers the build stored uncompressed in gzip (made
 * once and recorded, so a later save or output of the image reuses it).
 */
export async function writeOutput(store: ImageStore, output: BuildOutput, image: OutputImage, stdout: Writable, signal?: AbortSignal): Promise<void> {
  const withSignal = signal === undefined ? {} : { signal };
  switch (output.type) {
    case 'image':
      if (output.compression !== undefined) await convertImage(store, await builtForm(store, image), output.compression, { force: true, ...withSignal });
      return;
    case 'oci':
    case 'docker': {
      const form = await builtForm(store, image);
      const manifest = await convertImage(store, form, output.compression ?? 'gzip', { force: output.compression !== undefined, ...withSignal });
      return toFile(output.dest, stdout, (out) => saveImages(store, image.names, out, signal, new Map([[image.id, manifest]])));
    }
    case 'local':
      // buildx: a local output to `-` is the file system as a tar on standard output.
      if (output.dest === '-') return writeOutput(store, { type: 'tar', dest: '-' }, image, stdout, signal);
      await mkdir(output.dest, { recursive: true });
      return unpackInto(store, image.layers, output.dest, signal);
    case 'tar': {
      const dir = await store.tempDir();
      try {
        await unpackInto(store, image.layers, dir, signal);
        return await toFile(output.dest, stdout, (out) => tarDirectory(dir, out));
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    }
  }
}

/** The form the build recorded: its image's record with the layers as the build stored them. */
async function builtForm(store: ImageStore, image: OutputImage): Promise<ImageForm> {
  const record = await store.image(image.id);
  if (record === undefined) throw new InternalError(`image ${image.id} was built but is not in the store`);
  return { record, mediaType: MediaType.ociManifest, layers: image.layers.map((l) => l.descriptor) };
}

/** Applies the layers in order into `dir`. */
async function unpackInto(store: ImageStore, layers: readonly LayerRef[], dir: string, signal?: AbortSignal): Promise<void> {
  for (const layer of layers) {
    const compression = layerCompression(layer.descriptor.mediaType);
    const { tar } = decompressLayer(store.content.open(layer.descriptor.digest), compression ?? 'gzip', signal === undefined ? {} : { signal });
    await applyLayer(dir, tar, { name: layer.descriptor.digest, ...(signal === undefined ? {} : { signal }) });
  }
}

/** A tar of `dir`'s contents (GNU tar, numeric owners, sorted names). */
async function tarDirectory(dir: string, out: Writable): Promise<void> {
  const names = (await readdir(dir)).sort();
  const child = spawn('tar', ['-C', dir, '--numeric-owner', '--sort=name', '--xattrs', '-cf', '-', '--', ...(names.length === 0 ? ['.'] : names)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  child.stdout.pipe(out, { end: false });
  const [code] = (await once(child, 'close')) as [number | null];
  if (code !== 0) throw new Error(`tar exited with ${code}`);
}

/** Writes through `write` to `dest` (`-`: standard output), renaming a finished file into place. */
async function toFile(dest: string, stdout: Writable, write: (out: Writable) => Promise<void>): Promise<void> {
  if (dest === '-') {
    await write(stdout);
    return;
  }
  const partial = `${dest}.kiln-partial`;
  try {
    const out = createWriteStream(partial, { mode: 0o644 });
    await write(out);
    out.end();
    await finished(out);
    await rename(partial, dest);
  } catch (error) {
    await rm(partial, { force: true });
    throw error;
  }
}
