import { Transform } from 'node:stream';
import type { ContentStore } from '../content/index.ts';
import { dockerLayerMediaType, ociLayerMediaType } from '../image/index.ts';
import { writeLayerBlob, writeLayerTar, type LayerEntry } from '../image/layer/index.ts';
import type { DiffOptions, LayerDiff } from './snapshotter.ts';

/**
 * Writes `entries` (in layer order) as a layer tar, compressed, into `content` in one pass,
 * and returns its descriptor, DiffID and uncompressed size.
 */
export async function writeDiff(entries: AsyncIterable<LayerEntry>, content: ContentStore, options: DiffOptions = {}): Promise<LayerDiff> {
  const compression = options.compression ?? 'gzip';
  const signal = options.signal;
  const tar = writeLayerTar(entries, {
    ...(signal === undefined ? {} : { signal }),
    ...(options.sourceDateEpoch === undefined ? {} : { sourceDateEpoch: options.sourceDateEpoch }),
    ...(options.rewriteTimestamp === undefined ? {} : { rewriteTimestamp: options.rewriteTimestamp }),
  });
  let size = 0;
  const counted = tar.pipe(
    new Transform({
      highWaterMark: 1 << 16,
      transform(chunk: Buffer, _encoding, done) {
        size += chunk.length;
        done(null, chunk);
      },
    }),
  );
  // pipe() forwards neither errors downstream nor destruction upstream.
  tar.on('error', (error) => counted.destroy(error));
  counted.on('close', () => tar.destroy());
  const blob = await writeLayerBlob(counted, await content.writer(), compression, signal === undefined ? {} : { signal });
  const mediaType = options.format === 'docker' ? dockerLayerMediaType(compression) : ociLayerMediaType(compression);
  return { descriptor: { mediaType, digest: blob.digest, size: blob.size }, diffId: blob.diffId, size };
}
