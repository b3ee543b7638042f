/**
 * Context content hashing: what a COPY selects from its source (shared with the copy itself
 * in src/solver/file, so the cache key covers exactly what is read), the build context's
 * ignore rules, the content digest of a selection, and the persistent stat cache that spares
 * re-reading unchanged files.
 */
export { checksumSources, type ChecksumRequest } from './checksum-sources.ts';
export { type ContentReader, fileContentReader } from './content-reader.ts';
export { ContextFilter, type FilterVerdict, loadContextFilter } from './context-filter.ts';
export type { CopySelection, CopySourceRoot } from './copy-selection.ts';
export { type ResolvedSelection, selectSources, type SelectedSource, type SourceMatch } from './select-sources.ts';
export { type Absence, type Resolution, SourceTree } from './source-tree.ts';
export { openStatCache, RACY_NS, type StatCache, type StatCacheOptions } from './stat-cache.ts';
export { walkMatch, type WalkEvent } from './walk-selection.ts';
export { ElementPattern, hasWildcards } from './wildcard.ts';
