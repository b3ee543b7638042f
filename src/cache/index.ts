/**
 * The build cache: cache keys, the on-disk index of step results, miss explanations, and
 * content hashing of the build context.
 */
export { cacheKey, CACHE_SCHEMA, isCacheKey, type CacheKey, type CacheKeyInput } from './cache-key.ts';
export { CacheRecords, type CacheRecord, type CacheRecordsOptions, type LayerRef } from './cache-records.ts';
export { explainMiss } from './explain-miss.ts';
export {
  cacheBlobs,
  cacheUsage,
  defaultCachePolicy,
  parseDuration,
  parseSize,
  pruneBuildCache,
  type CachePrunePolicy,
  type CacheUsage,
} from './prune-cache.ts';
export { pruneAll, type PruneAllOptions, type PruneAllResult } from './prune-all.ts';
export {
  checksumSources,
  type ChecksumRequest,
  type ContentReader,
  ContextFilter,
  type CopySelection,
  type CopySourceRoot,
  fileContentReader,
  type FilterVerdict,
  hasWildcards,
  loadContextFilter,
  openStatCache,
  RACY_NS,
  type ResolvedSelection,
  selectSources,
  type SelectedSource,
  SourceTree,
  type SourceMatch,
  type StatCache,
  type StatCacheOptions,
  walkMatch,
  type WalkEvent,
} from './contenthash/index.ts';
