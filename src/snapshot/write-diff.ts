import type { ContentStore } from '../content/index.ts';
import { dockerLayerMediaType, ociLayerMediaType } from '../image/index.ts';
import { layerTarChunks, writeLayerBlob, writeLayerTar, type LayerEntry } from '../image/layer/index.ts';
import type { DiffOptions, LayerDiff } from './snapshotter.ts';

/**
 * Writes `entries` (in layer order) as a layer tar, in `options.compression`, into `content`
 * in one pass, and returns its descriptor, DiffID and uncompressed size.
 */
export async function writeDiff(
  entries: Iterable<LayerEntry> | AsyncIterable<LayerEntry>,
  content: ContentStore,
  options: DiffOptions = {},
): Promise<LayerDiff> {
  const compression = options.compression ?? 'gzip';
  const signal = options.signal;
  // Stored as it is (what a build commits), the tar goes to the writer chunk by chunk with
  // the writer's buffers reused; a compressor reads ahead, so it gets the stream.
  const tar = (compression === 'uncompressed' ? layerTarChunks : writeLayerTar)(entries, {
    ...(signal === undefined ? {} : { signal }),
    ...(options.sourceDateEpoch === undefined ? {} : { sourceDateEpoch: options.sourceDateEpoch }),
    ...(options.rewriteTimestamp === undefined ? {} : { rewriteTimestamp: options.rewriteTimestamp }),
  });
  const counter = { size: 0 };
  const blob = await writeLayerBlob(counted(tar, counter), await content.writer(), compression, signal === undefined ? {} : { signal });
  const mediaType = options.format === 'docker' ? dockerLayerMediaType(compression) : ociLayerMediaType(compression);
  return { descriptor: { mediaType, digest: blob.digest, size: blob.size }, diffId: blob.diffId, size: counter.size };
}

/** `tar` as it is, counting its bytes into `counter`; returning closes `tar`. */
async function* counted(tar: AsyncIterable<Uint8Array>, counter: { size: number }): AsyncGenerator<Uint8Array> {
  for await (const chunk of tar) {
    counter.size += chunk.length;
    yield chunk;
  }
}
