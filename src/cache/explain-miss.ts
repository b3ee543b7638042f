import type { CacheKeyInput } from './cache-key.ts';

/**
 * Says why a step missed the cache, from the inputs of its last recorded run and its inputs
 * now: the first named input that differs (`env NODE_ENV changed`, `parent changed`), said
 * as `details` words it when it has words for that input (`file src/app.js changed`).
 */
export function explainMiss(
  previous: CacheKeyInput['inputs'] | undefined,
  current: CacheKeyInput['inputs'],
  details: ReadonlyMap<string, string> = new Map(),
): string | undefined {
  if (previous === undefined) return 'no earlier run of this step';
  const before = new Map(previous);
  const now = new Map(current);
  for (const [name, value] of current) {
    const old = before.get(name);
    if (old === undefined) return `${name} is new`;
    if (old !== value) return details.get(name) ?? `${name} changed`;
  }
  for (const [name] of previous) if (!now.has(name)) return `${name} was removed`;
  return 'the earlier result is gone (pruned)';
}
