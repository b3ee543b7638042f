/**
 * The build cache: cache keys, the on-disk index of step results, miss explanations, and
 * content hashing of the build context.
 */
export { cacheKey, CACHE_SCHEMA, isCacheKey, type CacheKey, type CacheKeyInput } from './cache-key.ts';
export { CacheRecords, type CacheRecord, type CacheRecordsOptions, type LayerRef } from './cache-records.ts';
export { explainMiss } from './explain-miss.ts';
