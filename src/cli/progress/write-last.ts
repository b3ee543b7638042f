/**
 * Writes a renderer's last text and resolves once the stream has taken it (or failed to: a
 * closed stderr must not fail the build), so that the caller can exit without losing output.
 */
export function writeLast(out: NodeJS.WritableStream, text: string): Promise<void> {
  return new Promise((resolve) => {
    try {
      out.write(text, () => resolve());
    } catch {
      resolve();
    }
  });
}
