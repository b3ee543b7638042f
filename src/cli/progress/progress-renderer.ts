import type { ProgressEvent } from '../../solver/index.ts';
import { createPlainRenderer } from './plain-renderer.ts';
import type { ProgressMode } from './progress-mode.ts';
import { createRawJsonRenderer } from './rawjson-renderer.ts';
import { createTtyRenderer } from './tty-renderer.ts';

/** The stream a renderer writes to, normally `process.stderr`; `columns` and `rows` size the live view. */
export type ProgressOutput = NodeJS.WritableStream & { isTTY?: boolean; columns?: number; rows?: number };

/** What {@link createProgressRenderer} needs. */
export interface ProgressRendererOptions {
  /** `auto` is tty when `out` is a TTY and `TERM` is not `dumb`, else plain. */
  readonly mode: ProgressMode;
  readonly out: ProgressOutput;
  /** The text of a Dockerfile by path, for the failure excerpt (undefined when unknown). */
  readonly source: (file: string) => string | undefined;
  /** The clock, ms since the epoch (default `Date.now`); tests pass a fake one. */
  readonly now?: () => number;
  /** Where `auto` reads `TERM` and tty reads `NO_COLOR` (default `process.env`). */
  readonly env?: NodeJS.ProcessEnv;
}

/**
 * Shows a build's progress events. Lifecycle: `write` every event as it comes, then `close`
 * once; after `close`, `write` does nothing.
 */
export interface ProgressRenderer {
  /** Takes one event; never throws (a renderer's bug must not fail the build). */
  write(event: ProgressEvent): void;
  /**
   * Stops the live view (tty) and its timer, prints the final frame or held output and the
   * failure excerpt of the first failed step (tty and plain), and resolves once `out` has
   * taken it all. Never rejects.
   */
  close(): Promise<void>;
}

/** A renderer for `options.mode`, with `auto` resolved against `options.out`. */
export function createProgressRenderer(options: ProgressRendererOptions): ProgressRenderer {
  const { out, source } = options;
  const now = options.now ?? Date.now;
  const mode = resolveProgressMode(options.mode, out, options.env ?? process.env);
  switch (mode) {
    case 'tty':
      return createTtyRenderer({ out, source, now, env: options.env });
    case 'plain':
      return createPlainRenderer({ out, source });
    case 'rawjson':
      return createRawJsonRenderer({ out });
    case 'quiet':
      return { write() {}, close: async () => {} };
    default: {
      const unknown: never = mode;
      return unknown;
    }
  }
}

/** `auto` made concrete: tty on a terminal that can move its cursor, plain otherwise. */
export function resolveProgressMode(
  mode: ProgressMode,
  out: { isTTY?: boolean },
  env: NodeJS.ProcessEnv,
): Exclude<ProgressMode, 'auto'> {
  if (mode !== 'auto') return mode;
  return out.isTTY === true && env.TERM !== 'dumb' ? 'tty' : 'plain';
}
