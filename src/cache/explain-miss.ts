import type { CacheKeyInput } from './cache-key.ts';

/**
 * Says why a step missed the cache, from the inputs of its last recorded run and its inputs
 * now: the first named input that differs (`file src/app.js`, `env NODE_ENV`, `parent step`),
 * or undefined when there is nothing to compare with.
 */
export function explainMiss(previous: CacheKeyInput['inputs'] | undefined, current: CacheKeyInput['inputs']): string | undefined {
  if (previous === undefined) return 'no earlier run of this step';
  const before = new Map(previous);
  const now = new Map(current);
  for (const [name, value] of current) {
    const old = before.get(name);
    if (old === undefined) return `${name} is new`;
    if (old !== value) return `${name} changed`;
  }
  for (const [name] of previous) if (!now.has(name)) return `${name} was removed`;
  return 'the earlier result is gone (pruned)';
}
