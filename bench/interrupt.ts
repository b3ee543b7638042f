/*
 * Cleaning up when the benchmark is interrupted: a daemon the suite started must be stopped
 * and its directories removed on every path, Ctrl-C included.
 */

const EXIT_CODES: Readonly<Record<'SIGINT' | 'SIGTERM', number>> = { SIGINT: 130, SIGTERM: 143 };

/**
 * Runs `cleanup` should this process receive SIGINT or SIGTERM, then exits with 128 + the
 * signal's number. Call the function returned once the cleanup has run on the normal path:
 * it removes the handlers (and a signal then has its default effect again).
 */
export function onInterrupt(cleanup: () => Promise<void>): () => void {
  let running = false;
  const handler = (signal: 'SIGINT' | 'SIGTERM'): void => {
    if (running) return;
    running = true;
    process.stderr.write(`bench: ${signal}: stopping what the suite started\n`);
    void cleanup()
      .catch((error: unknown) => process.stderr.write(`bench: cleaning up failed: ${String(error)}\n`))
      .finally(() => process.exit(EXIT_CODES[signal]));
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return () => {
    process.off('SIGINT', handler);
    process.off('SIGTERM', handler);
  };
}
