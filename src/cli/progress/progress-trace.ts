import type { SourceRange } from '../../errors/index.ts';
import type { ProgressEvent } from '../../solver/index.ts';

/** Where a step is: announced, running, or one of the four ends. */
export type VertexState = 'waiting' | 'running' | 'cached' | 'done' | 'error' | 'canceled';

/** A whole line of a step's output (without its newline) and when its first byte came. */
export interface LogLine {
  readonly text: string;
  readonly time: number;
  readonly stream: 1 | 2;
}

/** How many of a step's last output lines are kept: the failure excerpt shows this many. */
export const KEPT_LINES = 10;

/**
 * One step as the renderers know it, updated in place by {@link ProgressTrace}. Times are the
 * events' (the solver's clock), in ms since the epoch.
 */
export class TracedVertex {
  readonly id: string;
  name: string;
  file: string | undefined = undefined;
  range: SourceRange | undefined = undefined;
  state: VertexState = 'waiting';
  /** When it started, or when it was found cached or failed without starting. */
  startedAt: number | undefined = undefined;
  endedAt: number | undefined = undefined;
  cacheMiss: string | undefined = undefined;
  error: string | undefined = undefined;
  /** The last {@link KEPT_LINES} whole lines, oldest first. */
  readonly recent: string[] = [];
  // Per stream, so that stderr arriving between two halves of a stdout line does not split it.
  private readonly partial = new Map<1 | 2, { text: string; time: number }>();

  constructor(id: string) {
    this.id = id;
    this.name = id;
  }

  /** True once the step has reached one of its ends. */
  get ended(): boolean {
    return this.state !== 'waiting' && this.state !== 'running';
  }

  /** Adds a chunk of output; returns the lines it completed. A chunk need not end in a newline. */
  addOutput(stream: 1 | 2, data: string, time: number): LogLine[] {
    const pieces = data.split('\n');
    const held = this.partial.get(stream);
    const lines: LogLine[] = [];
    for (let i = 0; i < pieces.length - 1; i++) {
      const piece = pieces[i] ?? '';
      lines.push(i === 0 && held !== undefined ? { text: held.text + piece, time: held.time, stream } : { text: piece, time, stream });
    }
    const rest = pieces[pieces.length - 1] ?? '';
    if (pieces.length === 1) {
      if (rest !== '') this.partial.set(stream, { text: (held?.text ?? '') + rest, time: held?.time ?? time });
    } else if (rest === '') {
      this.partial.delete(stream);
    } else {
      this.partial.set(stream, { text: rest, time });
    }
    return this.keep(lines);
  }

  /** Ends the held partial lines (the step ended, or the build did); returns them, oldest first. */
  flush(): LogLine[] {
    const lines = [...this.partial.entries()].map(([stream, p]) => ({ text: p.text, time: p.time, stream })).sort((a, b) => a.time - b.time);
    this.partial.clear();
    return this.keep(lines);
  }

  /** The last `count` lines of output, the held partial lines included. */
  tail(count: number): string[] {
    const held = [...this.partial.values()].sort((a, b) => a.time - b.time).map((p) => p.text);
    return [...this.recent, ...held].slice(-count);
  }

  private keep(lines: LogLine[]): LogLine[] {
    const out = lines.map((l) => (l.text.endsWith('\r') ? { ...l, text: l.text.slice(0, -1) } : l));
    for (const line of out) this.recent.push(line.text);
    if (this.recent.length > KEPT_LINES) this.recent.splice(0, this.recent.length - KEPT_LINES);
    return out;
  }
}

/**
 * The state of a build as its progress events tell it: every step, in the order they were
 * announced and in the order they were first shown, and the first failure. Tolerant: an event
 * for a step never announced creates it, and a step that has ended keeps its end.
 */
export class ProgressTrace {
  /** Every step, in announcement order. */
  readonly vertices = new Map<string, TracedVertex>();
  /** The steps that started, were cached or failed, in that order: the ones a view lists. */
  readonly shown: TracedVertex[] = [];
  /** The step of the first `error` event. */
  firstError: TracedVertex | undefined = undefined;
  /** The time of the first event, on the events' clock. */
  startedAt: number | undefined = undefined;

  /** The step with this id, created if the events have not announced it. */
  vertex(id: string): TracedVertex {
    let v = this.vertices.get(id);
    if (v === undefined) {
      v = new TracedVertex(id);
      this.vertices.set(id, v);
    }
    return v;
  }

  /**
   * Takes one event; returns the output lines it completed: the whole lines of a `log` chunk,
   * or the held partial lines of a step that ended.
   */
  apply(event: ProgressEvent): LogLine[] {
    this.startedAt ??= event.time;
    switch (event.kind) {
      case 'vertex': {
        const v = this.vertex(event.id);
        v.name = event.name;
        v.file = event.file;
        v.range = event.range;
        return [];
      }
      case 'started': {
        const v = this.vertex(event.id);
        if (v.ended) return [];
        v.state = 'running';
        v.cacheMiss = event.cacheMiss;
        this.show(v, event.time);
        return [];
      }
      case 'log':
        return this.vertex(event.id).addOutput(event.stream, event.data, event.time);
      case 'cached':
      case 'done':
      case 'error':
      case 'canceled': {
        const v = this.vertex(event.id);
        if (v.ended) return [];
        this.show(v, event.time);
        v.state = event.kind;
        v.endedAt = event.time;
        if (event.kind === 'error') {
          v.error = event.message;
          this.firstError ??= v;
        }
        return v.flush();
      }
      case 'message':
        return [];
      default: {
        const unknown: never = event;
        return unknown;
      }
    }
  }

  /** How many steps have reached an end. */
  get completed(): number {
    let n = 0;
    for (const v of this.vertices.values()) if (v.ended) n++;
    return n;
  }

  private show(v: TracedVertex, time: number): void {
    if (v.startedAt !== undefined) return;
    v.startedAt = time;
    this.shown.push(v);
  }
}
