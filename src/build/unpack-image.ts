import type { Digest } from '../content/index.ts';
import { openSnapshotter } from '../snapshot/index.ts';
import type { ImageStore } from '../store/index.ts';
import { imageLayers } from './build.ts';

/**
 * Unpacks stored images into snapshots, as `docker load` and `buildah pull` put an image into
 * their storage and containerd unpacks on pull: the first build FROM the image then starts
 * from its snapshot instead of applying its layers. Layers already unpacked (a shared base)
 * are not applied again. An image that does not unpack (an index of several platforms) is
 * returned with its error: it stays stored as it was.
 */
export async function unpackImages(store: ImageStore, ids: readonly Digest[], signal?: AbortSignal): Promise<readonly { readonly id: Digest; readonly error: unknown }[]> {
  if (ids.length === 0) return [];
  const snapshotter = await openSnapshotter({ root: store.root, content: store.content });
  const failed: { id: Digest; error: unknown }[] = [];
  for (const id of new Set(ids)) {
    try {
      const layers = await imageLayers(store, id);
      await snapshotter.unpack(
        layers.map((layer) => ({ descriptor: layer.descriptor, diffId: layer.diffId })),
        signal === undefined ? {} : { signal },
      );
    } catch (error) {
      signal?.throwIfAborted();
      // The image is stored whole; a build will try the unpack again (and say why it fails).
      failed.push({ id, error });
    }
  }
  return failed;
}
