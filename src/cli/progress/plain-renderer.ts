import type { ProgressEvent } from '../../solver/index.ts';
import { formatVertexFailure } from './build-failure.ts';
import { formatLogOffset, formatSeconds } from './format-seconds.ts';
import type { ProgressRenderer } from './progress-renderer.ts';
import { ProgressTrace, type LogLine, type TracedVertex } from './progress-trace.ts';
import { writeLast } from './write-last.ts';

/**
 * `plain`: BuildKit's plain output, for CI logs. Steps get numbers in the order they first
 * print; each block starts with `#N name` (again when another step's lines came between, the
 * interrupted block ending in `#N ...`), blocks are separated by a blank line, and a step
 * prints `#N cache miss: why` when it starts, its output lines as `#N 0.123 text` (seconds
 * since it started), and `#N DONE 0.4s`, `#N CACHED`, `#N ERROR: message` or `#N CANCELED`.
 * Output is split into lines and never cut; a partial line waits for its newline or for its
 * step to end. Build messages print as `WARNING: text` (or the text, for information).
 */
export function createPlainRenderer(options: {
  readonly out: NodeJS.WritableStream;
  readonly source: (file: string) => string | undefined;
}): ProgressRenderer {
  const { out, source } = options;
  const trace = new ProgressTrace();
  const numbers = new Map<TracedVertex, number>();
  // What the last printed line belongs to: an open step's block, a run of messages, or nothing.
  let current: TracedVertex | 'messages' | undefined;
  let printedAny = false;
  let closed = false;

  const number = (v: TracedVertex): number => {
    let n = numbers.get(v);
    if (n === undefined) {
      n = numbers.size + 1;
      numbers.set(v, n);
    }
    return n;
  };

  /** The lines that begin a new block, when the next line does not continue the current one. */
  const enter = (next: TracedVertex | 'messages'): string[] => {
    if (current === next) return [];
    const lines: string[] = [];
    if (current !== undefined && current !== 'messages' && !current.ended) lines.push(`#${number(current)} ...`);
    if (printedAny) lines.push('');
    printedAny = true;
    if (next !== 'messages') lines.push(`#${number(next)} ${next.name}`);
    current = next;
    return lines;
  };

  const output = (v: TracedVertex, lines: readonly LogLine[]): string[] =>
    lines.map((l) => `#${number(v)} ${formatLogOffset(l.time - (v.startedAt ?? l.time))} ${l.text}`);

  /** The lines an event prints. */
  const render = (event: ProgressEvent): string[] => {
    if (event.kind === 'message') {
      trace.apply(event);
      return [...enter('messages'), event.level === 'warning' ? `WARNING: ${event.text}` : event.text];
    }
    const v = trace.vertex(event.id);
    const wasEnded = v.ended;
    const completed = trace.apply(event);
    switch (event.kind) {
      case 'vertex':
        return [];
      case 'log':
        return completed.length === 0 ? [] : [...enter(v), ...output(v, completed)];
      case 'started':
        if (wasEnded) return [];
        return [...enter(v), ...(event.cacheMiss === undefined ? [] : [`#${number(v)} cache miss: ${event.cacheMiss}`])];
      case 'cached':
      case 'done':
      case 'error':
      case 'canceled': {
        if (wasEnded) return [];
        const lines = [...enter(v), ...output(v, completed), `#${number(v)} ${ending(v)}`];
        current = undefined;
        return lines;
      }
      default: {
        const unknown: never = event;
        return unknown;
      }
    }
  };

  return {
    write(event: ProgressEvent): void {
      if (closed) return;
      try {
        const lines = render(event);
        if (lines.length > 0) out.write(`${lines.join('\n')}\n`);
      } catch {
        // Progress is a view: a failure to show it must not fail the build.
      }
    },
    close(): Promise<void> {
      if (closed) return Promise.resolve();
      closed = true;
      const lines: string[] = [];
      try {
        // Steps still open when the build stopped: their held partial lines would be lost.
        for (const v of trace.vertices.values()) {
          const held = v.flush();
          if (held.length > 0) lines.push(...enter(v), ...output(v, held));
        }
        if (trace.firstError !== undefined) lines.push(formatVertexFailure(trace.firstError, source));
      } catch {
        // As in write: what could be printed is printed.
      }
      return writeLast(out, lines.length === 0 ? '' : `${lines.join('\n')}\n`);
    },
  };
}

function ending(v: TracedVertex): string {
  switch (v.state) {
    case 'cached':
      return 'CACHED';
    case 'error':
      return `ERROR: ${v.error ?? ''}`;
    case 'canceled':
      return 'CANCELED';
    default:
      return `DONE ${formatSeconds((v.endedAt ?? 0) - (v.startedAt ?? 0))}s`;
  }
}
