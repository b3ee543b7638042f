export type { LayerEntry, LayerEntryType } from './layer-entry.ts';
export { compareLayerPaths } from './compare-layer-paths.ts';
export { detectCompression, sniffCompression, type SniffedStream } from './detect-compression.ts';
export { decompress, type DecompressOptions } from './decompress.ts';
export { compress, DEFAULT_GZIP_LEVEL, type CompressOptions, type WritableCompression } from './compress.ts';
export { compressLayer, writeLayerBlob, type CompressedLayer, type LayerBlob, type WriteLayerBlobOptions } from './compress-layer.ts';
export { GZIP_PIECE_BYTES, parallelGzip, type ParallelGzipOptions } from './parallel-gzip.ts';
export { decompressLayer, type DecompressedLayer } from './decompress-layer.ts';
export { layerTarChunks, writeLayerTar, type WriteLayerTarOptions } from './tar-writer.ts';
export { readLayerTar, type ReadLayerEntry, type ReadLayerTarOptions } from './tar-reader.ts';
export { entriesFromDirectory, type EntriesFromDirectoryOptions } from './entries-from-directory.ts';
export { directoryNames } from './directory-names.ts';
export { deviceMajor, deviceMinor } from './device-numbers.ts';
export { isOverlayXattr } from './overlay-xattr.ts';
export {
  OPAQUE_WHITEOUT,
  WHITEOUT_PREFIX,
  opaqueWhiteoutEntry,
  parseWhiteout,
  whiteoutEntry,
  type Whiteout,
} from './whiteout.ts';
export { contentXattrs, fileEntry, seconds } from './file-entry.ts';
export { eventLoopTurns } from './event-loop-turns.ts';
