import type { ProgressEvent } from '../../solver/index.ts';
import type { ProgressRenderer } from './progress-renderer.ts';
import { writeLast } from './write-last.ts';

/**
 * `rawjson`: each event as one line of JSON, unchanged (fields that are undefined are left
 * out, as JSON has no undefined), for programs that read the build's progress.
 */
export function createRawJsonRenderer(options: { readonly out: NodeJS.WritableStream }): ProgressRenderer {
  const { out } = options;
  let closed = false;
  return {
    write(event: ProgressEvent): void {
      if (closed) return;
      try {
        out.write(`${JSON.stringify(event)}\n`);
      } catch {
        // A stream that cannot take a line cannot report it either; the build goes on.
      }
    },
    close(): Promise<void> {
      if (closed) return Promise.resolve();
      closed = true;
      return writeLast(out, '');
    },
  };
}
