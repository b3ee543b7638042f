import type { LayerRef } from '../cache/index.ts';
import { IntegrityError } from '../errors/index.ts';
import { composeImage, validateImage, type ComposedImage, type History, type ImageConfig } from '../image/index.ts';
import type { ImageRecord, ImageStore } from '../store/index.ts';

/** Options of {@link recordBuiltImage}. */
export interface RecordBuiltImageOptions {
  /** Tags to point at the image (full names), each as a new version from source `build`. */
  readonly tags: readonly string[];
  /** Seconds since the epoch for `created` and new history entries (SOURCE_DATE_EPOCH); now when absent. */
  readonly epoch?: number;
}

/** The image a build recorded. */
export interface BuiltImage {
  readonly record: ImageRecord;
  readonly composed: ComposedImage;
  readonly config: ImageConfig;
}

/**
 * Turns a build's result into an image in the store: the frontend's config (base diff_ids,
 * history with new entries undated) completed with every layer's DiffID and the build's
 * time, composed (config and manifest blobs), validated, recorded, and tagged.
 * @throws IntegrityError when the layers do not extend the base image's diff_ids, or the
 * history does not pair with them.
 */
export async function recordBuiltImage(
  store: ImageStore,
  config: ImageConfig,
  layers: readonly LayerRef[],
  options: RecordBuiltImageOptions,
): Promise<BuiltImage> {
  const base = config.rootfs.diff_ids;
  if (base.some((id, i) => layers[i]?.diffId !== id)) {
    throw new IntegrityError('the build result does not start with its base image\'s layers');
  }
  const history = datedHistory(config.history ?? [], layers, options.epoch);
  const created = history.reduce<string | undefined>((last, h) => h.created ?? last, undefined) ?? new Date().toISOString();
  const full: ImageConfig = orderConfig({
    ...config,
    created,
    history,
    rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) },
  });
  const composed = await composeImage(store.content, full, layers.map((l) => l.descriptor), 'oci');
  await validateImage(store.content, composed.manifest);
  const record = await store.recordImage({
    config: composed.config,
    layers: layers.map((l) => ({ diffId: l.diffId, size: l.size })),
    manifest: composed.manifest,
    created,
  });
  for (const tag of options.tags) await store.setTag(tag, record.id, 'build', composed.manifest.digest);
  return { record, composed, config: full };
}

/**
 * Dates the history as BuildKit's exporter does (normalizeLayersAndHistory): each new entry
 * with a layer takes its layer's creation time (kept in the cache, so a rebuild from the cache
 * gives the same image); an entry without a layer takes the time of the first new layer after
 * an undated entry, else of the last dated one before it. With SOURCE_DATE_EPOCH, every later
 * time is clamped to it.
 */
function datedHistory(history: readonly History[], layers: readonly LayerRef[], epoch: number | undefined): History[] {
  const now = new Date().toISOString();
  let layerIndex = 0;
  const dated: History[] = history.map((h) => {
    if (h.empty_layer === true) return { ...h };
    const layer = layers[layerIndex++];
    return h.created === undefined ? { ...h, created: layer?.created ?? now } : { ...h };
  });
  let created: string | undefined;
  let undated = false;
  for (const h of dated) {
    if (h.created !== undefined) {
      created = h.created;
      if (undated) break;
    } else {
      undated = true;
    }
  }
  undated = false;
  const filled = dated.map((h) => {
    if (h.created !== undefined) {
      if (undated) created = h.created;
      return h;
    }
    undated = true;
    return created === undefined ? h : { ...h, created };
  });
  if (epoch === undefined) return filled;
  const limit = new Date(epoch * 1000).toISOString();
  return filled.map((h) => (h.created === undefined || Date.parse(h.created) > epoch * 1000 ? { ...h, created: limit } : h));
}

/** The config's keys in the order BuildKit writes them, so digests do not depend on how it was built. */
function orderConfig(config: ImageConfig): ImageConfig {
  const { created, author, architecture, os, variant, config: container, rootfs, history, ...rest } = config;
  return {
    ...(created === undefined ? {} : { created }),
    ...(author === undefined ? {} : { author }),
    architecture,
    os,
    ...(variant === undefined ? {} : { variant }),
    ...rest,
    ...(container === undefined ? {} : { config: container }),
    rootfs,
    ...(history === undefined ? {} : { history }),
  };
}
