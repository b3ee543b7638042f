import { DockerfileError, InputError, InternalError, KilnError, UsageError } from '../errors/index.ts';

/**
 * The one map from error class to process exit code. Documented in README.md ("Exit
 * codes"); scripts rely on it, so a code once given is never reused for another meaning.
 */
export const EXIT = {
  ok: 0,
  /** The input was wrong: a Dockerfile that does not parse, a file that cannot be read. */
  failed: 1,
  /** The command line was wrong. */
  usage: 2,
  /** kiln broke a promise of its own (EX_SOFTWARE, sysexits.h). */
  internal: 70,
  /** Interrupted by SIGINT (128 + 2), as shells report it. */
  interrupted: 130,
} as const;

/** The exit code for anything thrown out of a command. */
export function exitCodeFor(error: unknown): number {
  // An AbortSignal fired by SIGINT/SIGTERM rejects with an AbortError (a DOMException).
  if (error instanceof Error && error.name === 'AbortError') return EXIT.interrupted;
  if (error instanceof UsageError) return EXIT.usage;
  if (error instanceof DockerfileError || error instanceof InputError) return EXIT.failed;
  if (error instanceof InternalError) return EXIT.internal;
  if (error instanceof KilnError) return EXIT.failed;
  return EXIT.internal;
}
