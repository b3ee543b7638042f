import { addAbortSignal, PassThrough, Readable, type Duplex } from 'node:stream';

/** Options of {@link pipeThrough}. */
export interface PipeThroughOptions {
  readonly signal?: AbortSignal | undefined;
  /** Turns an error of the filter (never of the source) into the error the reader sees. */
  readonly mapError?: (error: Error) => Error;
}

/**
 * Streams `source` through `filter` (a zlib stream, a child process) and returns the filter's
 * output as a Readable that owns both: an error on either side destroys all three streams and
 * reaches the reader (the source's error as it is, the filter's through `mapError`); the
 * reader destroying the output, or `signal` aborting, destroys the source and the filter.
 */
export function pipeThrough(
  source: AsyncIterable<Uint8Array>,
  filter: Duplex,
  options: PipeThroughOptions = {},
): Readable {
  const input = source instanceof Readable ? source : Readable.from(source, { objectMode: false });
  const output = new PassThrough({ highWaterMark: 1 << 16 });
  const mapError = options.mapError ?? ((error: Error) => error);
  let settled = false;
  const fail = (error: Error): void => {
    if (settled) return;
    settled = true;
    input.destroy();
    filter.destroy();
    output.destroy(error);
  };
  input.on('error', (error: Error) => fail(error));
  filter.on('error', (error: Error) => fail(mapError(error)));
  output.on('close', () => {
    if (output.readableEnded) return;
    settled = true;
    input.destroy();
    filter.destroy();
  });
  input.pipe(filter).pipe(output);
  if (options.signal !== undefined) addAbortSignal(options.signal, output);
  return output;
}
