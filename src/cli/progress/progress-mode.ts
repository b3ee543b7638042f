import { UsageError } from '../../errors/index.ts';

/**
 * How `kiln build` shows progress: `tty` a live view redrawn in place, `plain` one line per
 * happening for CI logs, `rawjson` every event as a JSON line, `quiet` nothing, and `auto`
 * tty on a terminal, else plain. The names are BuildKit's, so `BUILDKIT_PROGRESS` carries over.
 */
export type ProgressMode = 'auto' | 'tty' | 'plain' | 'rawjson' | 'quiet';

/** Every {@link ProgressMode}, in the order help texts list them. */
export const PROGRESS_MODES: readonly ProgressMode[] = ['auto', 'tty', 'plain', 'rawjson', 'quiet'];

/**
 * Reads a progress mode the user typed (case does not matter). `source` names where it came
 * from (`--progress`, `KILN_PROGRESS`) for the {@link UsageError} an unknown value throws.
 */
export function parseProgressMode(value: string, source: string): ProgressMode {
  const mode = value.trim().toLowerCase();
  const known = PROGRESS_MODES.find((m) => m === mode);
  if (known === undefined) {
    throw new UsageError(`${source}: ${JSON.stringify(value)} is not a progress mode`, {
      hint: `use one of ${PROGRESS_MODES.join(', ')}`,
    });
  }
  return known;
}

/**
 * The default mode from the environment: `KILN_PROGRESS`, then `BUILDKIT_PROGRESS`, else
 * `auto`. An empty variable counts as unset; an unknown value is a {@link UsageError} naming
 * the variable (even when the other one is valid: the one that wins must make sense).
 */
export function progressModeFromEnv(env: NodeJS.ProcessEnv): ProgressMode {
  for (const name of ['KILN_PROGRESS', 'BUILDKIT_PROGRESS']) {
    const value = env[name];
    if (value !== undefined && value.trim() !== '') return parseProgressMode(value, name);
  }
  return 'auto';
}
