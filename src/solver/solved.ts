import type { CacheKey, LayerRef } from '../cache/index.ts';
import type { ContextFilter } from '../cache/index.ts';

/**
 * What solving a vertex gives: a file system as its whole layer stack (base image layers
 * first) with the step's cache key, or, for a context source, the directory steps read from.
 */
export type Solved = SolvedFs | SolvedContext;

export interface SolvedFs {
  readonly kind: 'fs';
  readonly key: CacheKey;
  readonly layers: readonly LayerRef[];
  /**
   * True when its step ran in this solve (not found in the cache): a step that copies from it
   * has a new quick key, so it will need the key over the content it copies.
   */
  readonly made?: boolean;
}

export interface SolvedContext {
  readonly kind: 'context';
  readonly key: CacheKey;
  /** The context directory on the host. */
  readonly dir: string;
  /** What the ignore file leaves out of it. */
  readonly filter: ContextFilter | undefined;
}
