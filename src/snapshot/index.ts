export type {
  DiffOptions,
  LayerDiff,
  Mount,
  PrepareOptions,
  SnapshotInfo,
  SnapshotKind,
  Snapshotter,
  UnpackLayer,
  UnpackOptions,
  UnpackResult,
} from './snapshotter.ts';
export { chainIds, type ChainId } from './chain-id.ts';
export {
  openOverlaySnapshotter,
  overlaySupported,
  OverlaySnapshotter,
  type OverlaySnapshotterOptions,
} from './overlay-snapshotter.ts';
export { openCopySnapshotter, CopySnapshotter, type CopySnapshotterOptions } from './copy-snapshotter.ts';
export { openSnapshotter } from './open-snapshotter.ts';
export { MergedReader, upperDirOf } from './merged-reader.ts';
export { lazySnapshotter } from './lazy-snapshotter.ts';
