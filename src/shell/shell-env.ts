/**
 * The variables an expansion can see: a stage's ENV and ARG values, or the global ARGs for
 * FROM. Names are case-sensitive (kiln builds Linux images; BuildKit folds case only on
 * Windows). Implementations must not change while an expansion runs.
 */
export interface ShellEnv {
  /** The value of `name`, or `undefined` when it is not set (set-but-empty is `''`). */
  get(name: string): string | undefined;
  /** Every name that is set, each once. */
  keys(): readonly string[];
}

/**
 * Builds a {@link ShellEnv} from ordered `[name, value]` pairs, as a Dockerfile defines
 * them: a later pair for the same name wins. `keys()` lists each name once, in the order
 * it first appeared. The pairs are copied; changing the input later has no effect.
 */
export function envFromPairs(pairs: Iterable<readonly [string, string]>): ShellEnv {
  const values = new Map<string, string>();
  for (const [name, value] of pairs) values.set(name, value);
  const keys: readonly string[] = Object.freeze([...values.keys()]);
  return Object.freeze({
    get: (name: string) => values.get(name),
    keys: () => keys,
  });
}

/** A {@link ShellEnv} with nothing set. */
export const EMPTY_ENV: ShellEnv = envFromPairs([]);
