import type { Writable } from 'node:stream';
import type { Digest } from '../content/index.ts';
import type { WritableCompression } from '../image/layer/index.ts';
import { pickManifest, resolveImage, saveImages, type ImageStore } from '../store/index.ts';
import { convertImage, imageForm, needsConversion } from './convert-image.ts';

/** Options of {@link exportImages}. */
export interface ExportImagesOptions {
  /**
   * The layer codec asked for: every layer is written in it. Absent, layers stored
   * uncompressed (every layer a build made) are written gzip, BuildKit's default, and
   * compressed ones as they are.
   */
  readonly compression?: WritableCompression;
  readonly signal?: AbortSignal;
}

/**
 * `kiln save`: the named images as one tar, at once an OCI layout and a docker archive
 * (store saveImages), with no layer uncompressed unless `compression` asks for it. A layer
 * that needs compressing is compressed once: the image's form with the compressed layers is
 * recorded beside the one it came from, and every later export of the image writes it as it
 * is (src/exporter convertImage). Holds a lease while it writes, so a collection running
 * meanwhile keeps the blobs it adds.
 */
export async function exportImages(store: ImageStore, names: readonly string[], out: Writable, options: ExportImagesOptions = {}): Promise<void> {
  const lease = await store.lease();
  try {
    const compression = options.compression ?? 'gzip';
    const convert = { force: options.compression !== undefined, ...(options.signal === undefined ? {} : { signal: options.signal }) };
    const forms = new Map<string, Digest>();
    for (const name of names) {
      const resolved = await resolveImage(store, name);
      if (forms.has(resolved.record.id)) continue;
      const form = await imageForm(store, resolved.record, pickManifest(resolved.record, resolved.manifest));
      if (needsConversion(form, compression, convert)) forms.set(resolved.record.id, await convertImage(store, form, compression, convert));
    }
    await saveImages(store, names, out, options.signal, forms);
  } finally {
    await lease.release();
  }
}
