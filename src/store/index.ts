export { writeFileAtomic, readJsonIfExists } from './atomic-file.ts';
export { ImageStore, type CollectResult, type Lease, type NewImage } from './image-store.ts';
export { acquireLock, type Lock, type LockOptions } from './lock.ts';
export {
  currentVersion,
  type ImageRecord,
  type ImageSource,
  type LayerRecord,
  type TagRecord,
  type TagVersion,
} from './records.ts';
