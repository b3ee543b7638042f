import { pipeline } from 'node:stream/promises';
import type { Writable } from 'node:stream';
import tar from 'tar-stream';
import { digestHex, type ContentStore, type Digest } from '../content/index.ts';
import { MediaType } from './media-types.ts';
import type { Descriptor, Manifest } from './oci.ts';

/** One image to put in an archive, by its manifest, with the names to give it. */
export interface ArchiveImage {
  readonly manifest: Descriptor;
  readonly manifestJson: Manifest;
  /** Full references (`docker.io/library/busybox:latest`); may be empty. */
  readonly names: readonly string[];
  /** The short form of each name (`busybox:latest`), as docker's manifest.json holds it. */
  readonly familiarNames: readonly string[];
}

/** Archives are reproducible: every entry has this mtime (1970-01-01). */
const MTIME = new Date(0);

/**
 * Writes images as one tar that is at once an OCI image layout (oci-layout, index.json,
 * blobs/sha256/…) and a docker archive (manifest.json, repositories) whose paths point
 * into the same blobs, as Docker ≥ 25's `docker save` does; so `docker load`, skopeo
 * (oci-archive: and docker-archive:) and umoci all accept it. Blobs stream from the content
 * store, verified, each written once however many images share it.
 */
export async function writeArchive(content: ContentStore, images: readonly ArchiveImage[], out: Writable, signal?: AbortSignal): Promise<void> {
  const pack = tar.pack();
  const done = pipeline(pack, out, signal ? { signal } : {});
  const file = (name: string, body: string) =>
    new Promise<void>((resolve, reject) => {
      pack.entry({ name, mode: 0o644, mtime: MTIME, uid: 0, gid: 0 }, body, (error) => (error ? reject(error) : resolve()));
    });
  try {
    await file('oci-layout', `${JSON.stringify({ imageLayoutVersion: '1.0.0' })}\n`);
    pack.entry({ name: 'blobs', type: 'directory', mode: 0o755, mtime: MTIME });
    pack.entry({ name: 'blobs/sha256', type: 'directory', mode: 0o755, mtime: MTIME });
    const written = new Set<Digest>();
    for (const image of images) {
      for (const blob of [image.manifest, image.manifestJson.config, ...image.manifestJson.layers]) {
        if (written.has(blob.digest)) continue;
        written.add(blob.digest);
        signal?.throwIfAborted();
        const entry = pack.entry({ name: `blobs/sha256/${digestHex(blob.digest)}`, size: blob.size, mode: 0o644, mtime: MTIME });
        await pipeline(content.open(blob.digest), entry);
      }
    }
    await file('index.json', `${JSON.stringify(ociIndex(images))}\n`);
    await file('manifest.json', `${JSON.stringify(dockerManifest(images))}\n`);
    await file('repositories', `${JSON.stringify(repositories(images))}\n`);
    pack.finalize();
  } catch (error) {
    pack.destroy(error as Error);
    await done.catch(() => undefined);
    throw error;
  }
  await done;
}

function ociIndex(images: readonly ArchiveImage[]) {
  const manifests = images.flatMap((image) => {
    const base = { mediaType: image.manifest.mediaType, digest: image.manifest.digest, size: image.manifest.size };
    if (image.names.length === 0) return [base];
    // One entry per name: containerd reads the full name, other OCI tools the tag.
    return image.names.map((name) => ({
      ...base,
      annotations: {
        'io.containerd.image.name': name,
        'org.opencontainers.image.ref.name': tagOf(name),
      },
    }));
  });
  return { schemaVersion: 2, mediaType: MediaType.ociIndex, manifests };
}

function dockerManifest(images: readonly ArchiveImage[]) {
  return images.map((image) => ({
    Config: `blobs/sha256/${digestHex(image.manifestJson.config.digest)}`,
    RepoTags: image.familiarNames.filter((n) => !n.includes('@')),
    Layers: image.manifestJson.layers.map((l) => `blobs/sha256/${digestHex(l.digest)}`),
  }));
}

/** The legacy `repositories` file: repository → tag → image ID hex. */
function repositories(images: readonly ArchiveImage[]) {
  const repos: Record<string, Record<string, string>> = {};
  for (const image of images) {
    for (const name of image.familiarNames) {
      if (name.includes('@')) continue;
      const colon = name.lastIndexOf(':');
      const repo = name.slice(0, colon);
      (repos[repo] ??= {})[name.slice(colon + 1)] = digestHex(image.manifestJson.config.digest);
    }
  }
  return repos;
}

function tagOf(name: string): string {
  const at = name.indexOf('@');
  const ref = at < 0 ? name : name.slice(0, at);
  const colon = ref.lastIndexOf(':');
  return colon > ref.lastIndexOf('/') ? ref.slice(colon + 1) : 'latest';
}
