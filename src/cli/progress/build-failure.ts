import type { SourceRange } from '../../errors/index.ts';
import type { TracedVertex } from './progress-trace.ts';

/** A failed build step, as {@link formatBuildFailure} prints it. */
export interface BuildFailure {
  /** The step's name (`[stage-1 2/4] RUN make`), when the failure belongs to a step. */
  readonly name: string | undefined;
  /** The Dockerfile the step comes from. */
  readonly file: string | undefined;
  readonly range: SourceRange | undefined;
  /** The error: for a failed RUN, the command and its exit code. */
  readonly message: string;
  /** The step's last lines of output, oldest first (the renderers pass up to 10). */
  readonly lastLines: readonly string[];
}

const RULE = '--------------------';

/**
 * A failed step the way buildx prints one, without a trailing newline: the step's last output
 * lines between `------` rules, then `FILE:LINE` and the Dockerfile lines of the range with
 * context around them, each line of the range marked `>>>`, then `ERROR: message`.
 *
 *     ------
 *      > [stage-1 2/2] RUN make:
 *     cc: error: main.c: No such file or directory
 *     ------
 *     Dockerfile:3
 *     --------------------
 *        1 |     FROM gcc
 *        2 |     WORKDIR /src
 *        3 | >>> RUN make
 *     --------------------
 *     ERROR: process "/bin/sh -c make" did not complete successfully: exit code: 2
 *
 * `source` is the text of `file` (undefined when it cannot be read: then `FILE:LINE` stands
 * alone). A single-line range gets two lines of context on each side, a longer one one line.
 */
export function formatBuildFailure(failure: BuildFailure, source: string | undefined): string {
  const out: string[] = [];
  if (failure.name !== undefined) {
    out.push('------', ` > ${failure.name}:`, ...failure.lastLines, '------');
  }
  if (failure.file !== undefined) {
    const start = failure.range?.start.line;
    out.push(start === undefined ? failure.file : `${failure.file}:${start}`);
    if (failure.range !== undefined && source !== undefined) out.push(...excerpt(failure.range, source));
  }
  out.push(`ERROR: ${failure.message}`);
  return out.join('\n');
}

function excerpt(range: SourceRange, source: string): string[] {
  const lines = source.split('\n');
  if (lines.length > 1 && lines[lines.length - 1] === '') lines.pop();
  const start = range.start.line;
  const end = Math.min(Math.max(range.end.line, start), lines.length);
  if (start < 1 || start > lines.length) return [];
  const context = start === end ? 2 : 1;
  const from = Math.max(1, start - context);
  const to = Math.min(lines.length, end + context);
  const width = Math.max(3, String(to).length);
  const out = [RULE];
  for (let n = from; n <= to; n++) {
    const marker = n >= start && n <= end ? '>>>' : '   ';
    const text = (lines[n - 1] ?? '').replace(/\r$/, '');
    out.push(` ${String(n).padStart(width)} | ${marker} ${text}`.trimEnd());
  }
  out.push(RULE);
  return out;
}

/**
 * The failure excerpt of a step that failed, its Dockerfile read through `source`; a `source`
 * that throws counts as one that does not know the file.
 */
export function formatVertexFailure(v: TracedVertex, source: (file: string) => string | undefined): string {
  let text: string | undefined;
  try {
    text = v.file === undefined ? undefined : source(v.file);
  } catch {
    text = undefined;
  }
  return formatBuildFailure({ name: v.name, file: v.file, range: v.range, message: v.error ?? '', lastLines: v.recent }, text);
}
