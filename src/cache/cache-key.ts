import { createHash } from 'node:crypto';
import { canonicalJson } from '../graph/index.ts';

declare const cacheKeyBrand: unique symbol;

/**
 * The cache key of a build step: `sha256:<hex>` of the canonical JSON of {@link CacheKeyInput}
 * with {@link CACHE_SCHEMA}. Made only by {@link cacheKey}, so a vertex digest or a content
 * digest never stands for one.
 */
export type CacheKey = string & { readonly [cacheKeyBrand]: 'CacheKey' };

/**
 * Bumped whenever what a step's result depends on is hashed differently, or a record's
 * meaning changes: old records then simply stop matching.
 */
export const CACHE_SCHEMA = 1;

/**
 * What a step's key covers: its op with the values it actually reads (the expanded command,
 * environment, user, working directory, mount options, network), the keys of the steps it
 * builds on, and the content digests of what it reads from outside the graph (context files,
 * bind-mount sources). Each named input is one entry, so a miss can say which one changed.
 */
export interface CacheKeyInput {
  /** Kind of step: `exec`, `file`, `image`, `scratch`. */
  readonly kind: string;
  /** Named inputs → a value or digest, in a fixed order the caller chooses. */
  readonly inputs: readonly (readonly [string, string])[];
}

/** The key of a step (canonical, schema-versioned sha256). */
export function cacheKey(input: CacheKeyInput): CacheKey {
  const text = canonicalJson({ schema: CACHE_SCHEMA, kind: input.kind, inputs: input.inputs });
  return `sha256:${createHash('sha256').update(text).digest('hex')}` as CacheKey;
}

/** Whether `text` has the shape of a cache key (read back from disk). */
export function isCacheKey(text: unknown): text is CacheKey {
  return typeof text === 'string' && /^sha256:[0-9a-f]{64}$/.test(text);
}
