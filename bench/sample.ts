import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** The median of a non-empty list (the mean of the middle two for an even count). */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const upper = sorted[mid] ?? Number.NaN;
  return sorted.length % 2 === 1 ? upper : ((sorted[mid - 1] ?? Number.NaN) + upper) / 2;
}

/*
 * V8's --expose-gc can be set after start-up; the gc function then appears in contexts
 * created afterwards, hence the new context.
 */
setFlagsFromString('--expose-gc');
const collect = runInNewContext('gc') as () => void;

/**
 * Times one in-process contender: a full GC first, so that it does not pay for an earlier
 * contender's garbage, then `warmup` untimed runs (JIT, and the heap grown to its working
 * size), then `runs` timed ones back to back. Durations in ms. A GC between every run would
 * be worse than none: a forced full GC shrinks the young generation, and the next run then
 * pays for growing it again.
 */
export function timeRuns(run: () => unknown, { warmup, runs }: { readonly warmup: number; readonly runs: number }): number[] {
  collect();
  const times: number[] = [];
  for (let i = 0; i < warmup + runs; i++) {
    const start = performance.now();
    run();
    const elapsed = performance.now() - start;
    if (i >= warmup) times.push(elapsed);
  }
  return times;
}

/**
 * Times contenders that do not share a heap (child processes): `warmup` untimed rounds, then
 * `runs` timed rounds in which each runs once, in turn, so that drift in the machine's load
 * touches all of them alike. Durations in ms, by contender.
 */
export function timeAlternating<K extends string>(
  contenders: Readonly<Record<K, () => unknown>>,
  { warmup, runs }: { readonly warmup: number; readonly runs: number },
): Record<K, number[]> {
  const names = Object.keys(contenders) as K[];
  const times = Object.fromEntries(names.map((n) => [n, [] as number[]])) as Record<K, number[]>;
  for (let round = 0; round < warmup + runs; round++) {
    for (const name of names) {
      const start = performance.now();
      contenders[name]();
      const elapsed = performance.now() - start;
      if (round >= warmup) times[name].push(elapsed);
    }
  }
  return times;
}
