export {
  applyEntries,
  applyLayer,
  type ApplyEntry,
  type ApplyLayerOptions,
  type ApplyLayerResult,
  type SkippedEntry,
  type UnsupportedPolicy,
} from './apply-layer.ts';
export { cleanEntryPath, resolveInRoot } from './safe-path.ts';
