export { writeFileAtomic, readJsonIfExists } from './atomic-file.ts';
export { ImageStore, type CollectResult, type Lease, type NewImage, type StoreOptions } from './image-store.ts';
export {
  importRootfs,
  loadArchive,
  normaliseName,
  pickManifest,
  saveImages,
  type ImportOptions,
  type Recorded,
} from './image-service.ts';
export { imageHistory, imageSize, inspectImage, readImageConfig, tagsByImage, type HistoryRow } from './inspect.ts';
export { acquireLock, type Lock, type LockOptions } from './lock.ts';
export {
  diskUsage,
  fsck,
  pruneImages,
  type DiskUsage,
  type FsckFinding,
  type PruneOptions,
  type PruneResult,
} from './maintenance.ts';
export {
  currentVersion,
  type ImageRecord,
  type ImageSource,
  type LayerRecord,
  type TagRecord,
  type TagVersion,
} from './records.ts';
export { resolveImage, type Resolved } from './resolve.ts';
