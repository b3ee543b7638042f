export {
  decodeDescriptor,
  decodeImageConfig,
  decodeIndex,
  decodeManifest,
  digestField,
  sniffMediaType,
} from './decode.ts';
export {
  dockerLayerMediaType,
  layerCompression,
  MediaType,
  ociLayerMediaType,
  type Compression,
} from './media-types.ts';
export type {
  ContainerConfig,
  Descriptor,
  DiffId,
  HealthConfig,
  History,
  ImageConfig,
  Index,
  Manifest,
  Platform,
} from './oci.ts';
export { readArchive, type ArchivedImage, type ReadArchiveOptions } from './archive-reader.ts';
export { writeArchive, type ArchiveImage } from './archive-writer.ts';
export { composeImage, type ComposedImage, type ImageFormat } from './compose.ts';
export {
  familiarName,
  familiarString,
  formatReference,
  parseImageLookup,
  parseReference,
  repositoryName,
  withDefaultTag,
  type ImageLookup,
  type Reference,
} from './reference.ts';
export { hostArchitecture } from './platform.ts';
export { validateImage, type ValidImage } from './validate.ts';
