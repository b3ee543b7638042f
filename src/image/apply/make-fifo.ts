import { execFile } from 'node:child_process';

/** Why {@link makeFifo} could not create a FIFO. */
export type MakeFifoFailure = { readonly kind: 'unavailable'; readonly reason: string };

/**
 * Creates a FIFO at the absolute path `path` with permission bits `mode`, through coreutils'
 * mkfifo(1): Node has no mkfifo(3) binding, and the native addon that will provide mknod(2)
 * arrives with the sandbox (TODO(#5)). mkfifo(3) fails with EEXIST rather than follow or
 * replace what is at `path`. Resolves to a failure, rather than throwing, when no mkfifo(1)
 * can be run, so the caller's unsupported-entry policy decides.
 *
 * @throws the error of mkfifo(1) when it runs and fails; the abort reason when `signal` aborts.
 */
export async function makeFifo(path: string, mode: number, signal?: AbortSignal): Promise<MakeFifoFailure | undefined> {
  return new Promise((resolve, reject) => {
    // `--` ends options, so a name beginning with `-` is a name (POSIX utility syntax guideline 10).
    execFile('mkfifo', ['-m', (mode & 0o7777).toString(8), '--', path], { signal }, (error, _stdout, stderr) => {
      if (error === null) return resolve(undefined);
      if (signal?.aborted === true) return reject(signal.reason);
      // A spawn failure carries the errno as a string code; an exit status is a number.
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
        return resolve({ kind: 'unavailable', reason: 'mkfifo(1) is not installed and kiln has no native mknod yet' });
      }
      reject(new Error(`mkfifo ${path}: ${stderr.trim() || error.message}`, { cause: error }));
    });
  });
}
