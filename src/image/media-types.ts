/**
 * Media types kiln reads and writes: OCI image-spec v1.1 (media-types.md) and the Docker
 * schema 2 equivalents that docker archives and older registries use.
 */
export const MediaType = {
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  ociLayer: 'application/vnd.oci.image.layer.v1.tar',
  ociLayerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  ociLayerZstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
  ociLayerNondistributable: 'application/vnd.oci.image.layer.nondistributable.v1.tar',
  ociLayerNondistributableGzip: 'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip',
  ociLayerNondistributableZstd: 'application/vnd.oci.image.layer.nondistributable.v1.tar+zstd',
  ociEmpty: 'application/vnd.oci.empty.v1+json',
  dockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  dockerLayer: 'application/vnd.docker.image.rootfs.diff.tar',
  dockerLayerGzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  dockerLayerZstd: 'application/vnd.docker.image.rootfs.diff.tar.zstd',
  dockerForeignLayerGzip: 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
} as const;

export type MediaType = (typeof MediaType)[keyof typeof MediaType];

/** How a layer blob is compressed. */
export type Compression = 'uncompressed' | 'gzip' | 'zstd' | 'bzip2' | 'xz';

const LAYER_COMPRESSION: ReadonlyMap<string, Compression> = new Map([
  [MediaType.ociLayer, 'uncompressed'],
  [MediaType.ociLayerGzip, 'gzip'],
  [MediaType.ociLayerZstd, 'zstd'],
  [MediaType.ociLayerNondistributable, 'uncompressed'],
  [MediaType.ociLayerNondistributableGzip, 'gzip'],
  [MediaType.ociLayerNondistributableZstd, 'zstd'],
  [MediaType.dockerLayer, 'uncompressed'],
  [MediaType.dockerLayerGzip, 'gzip'],
  [MediaType.dockerLayerZstd, 'zstd'],
  [MediaType.dockerForeignLayerGzip, 'gzip'],
]);

/** The compression a layer media type declares, or undefined when it is not a layer type. */
export function layerCompression(mediaType: string): Compression | undefined {
  return LAYER_COMPRESSION.get(mediaType);
}

/** The OCI layer media type for a compression kiln writes. */
export function ociLayerMediaType(compression: 'uncompressed' | 'gzip' | 'zstd'): MediaType {
  switch (compression) {
    case 'uncompressed':
      return MediaType.ociLayer;
    case 'gzip':
      return MediaType.ociLayerGzip;
    case 'zstd':
      return MediaType.ociLayerZstd;
  }
}

/** The Docker schema 2 layer media type for a compression kiln writes. */
export function dockerLayerMediaType(compression: 'uncompressed' | 'gzip' | 'zstd'): MediaType {
  switch (compression) {
    case 'uncompressed':
      return MediaType.dockerLayer;
    case 'gzip':
      return MediaType.dockerLayerGzip;
    case 'zstd':
      return MediaType.dockerLayerZstd;
  }
}
