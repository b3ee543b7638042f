import type { LayerRef } from '../cache/index.ts';
import { ConflictError } from '../errors/index.ts';
import { chainIds } from '../snapshot/index.ts';
import type { StepContext } from './step-context.ts';

/**
 * Turns the active snapshot `key` (on `parentName`, the snapshot of `parentLayers`) into the
 * step's layer: its diff written into the content store as an uncompressed tar (media type
 * `application/vnd.oci.image.layer.v1.tar`, digest = DiffID), as BuildKit keeps layers until
 * an export asks for a codec: no deflate runs during a build, and an export compresses each
 * layer once (src/exporter convertImage, which records the compressed form for later
 * exports). The snapshot is committed under the ChainID of the new stack, so a later step
 * (or an unpack of the same layers) finds it. When another build committed the same stack
 * first, ours is dropped and theirs is used.
 */
export async function commitStep(context: StepContext, key: string, parentName: string | undefined, parentLayers: readonly LayerRef[]): Promise<LayerRef> {
  const { deps, options, signal } = context;
  const diff = await deps.snapshotter.diff(parentName, key, {
    compression: 'uncompressed',
    ...(options.sourceDateEpoch === undefined ? {} : { sourceDateEpoch: options.sourceDateEpoch }),
    ...(options.rewriteTimestamp === true ? { rewriteTimestamp: true } : {}),
    ...(signal === undefined ? {} : { signal }),
  });
  const layer: LayerRef = { descriptor: diff.descriptor, diffId: diff.diffId, size: diff.size, created: new Date().toISOString() };
  const name = chainIds([...parentLayers.map((l) => l.diffId), layer.diffId]).at(-1)!;
  try {
    await deps.snapshotter.commit(name, key);
  } catch (error) {
    if (!(error instanceof ConflictError)) throw error;
    await deps.snapshotter.remove(key);
  }
  return layer;
}
