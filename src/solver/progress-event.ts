import type { SourceRange } from '../errors/index.ts';

/**
 * One event of a build's progress: the single stream the solver emits and every renderer
 * (tty, plain, rawjson) and the daemon consume. Plain JSON-able data; `time` is ms since the
 * epoch. A vertex is announced once (`vertex`), then goes `started` → `log`* → `done`, or is
 * `cached`, or ends in `error`; `canceled` when the build was aborted before it finished.
 */
export type ProgressEvent =
  | VertexEvent
  | VertexStartedEvent
  | VertexCachedEvent
  | VertexLogEvent
  | VertexDoneEvent
  | VertexErrorEvent
  | VertexCanceledEvent
  | BuildMessageEvent;

/** A step the build will run or find in the cache, announced before anything happens to it. */
export interface VertexEvent {
  readonly kind: 'vertex';
  readonly time: number;
  /** The vertex digest: the id later events refer to. */
  readonly id: string;
  /** `[stage-1 2/4] RUN make`, `[internal] load build context`. */
  readonly name: string;
  readonly file: string | undefined;
  readonly range: SourceRange | undefined;
}

export interface VertexStartedEvent {
  readonly kind: 'started';
  readonly time: number;
  readonly id: string;
  /** Why the cache missed, when it can say: the input that differs from the last record of this step. */
  readonly cacheMiss: string | undefined;
}

export interface VertexCachedEvent {
  readonly kind: 'cached';
  readonly time: number;
  readonly id: string;
}

/** Output of a running step, as it comes, in chunks that need not end at a line boundary. */
export interface VertexLogEvent {
  readonly kind: 'log';
  readonly time: number;
  readonly id: string;
  /** 1 stdout, 2 stderr. */
  readonly stream: 1 | 2;
  readonly data: string;
}

export interface VertexDoneEvent {
  readonly kind: 'done';
  readonly time: number;
  readonly id: string;
}

export interface VertexErrorEvent {
  readonly kind: 'error';
  readonly time: number;
  readonly id: string;
  /** The error's message (the exit code for a failed RUN: `process "/bin/sh -c false" did not complete successfully: exit code: 1`). */
  readonly message: string;
}

export interface VertexCanceledEvent {
  readonly kind: 'canceled';
  readonly time: number;
  readonly id: string;
}

/** A message about the build as a whole (a warning such as an unused build arg, an export step's note). */
export interface BuildMessageEvent {
  readonly kind: 'message';
  readonly time: number;
  readonly level: 'info' | 'warning';
  readonly text: string;
}

/** Where the solver sends its events; must not throw. */
export type ProgressSink = (event: ProgressEvent) => void;
