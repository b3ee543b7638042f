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
