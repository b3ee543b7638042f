import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { InputError } from '../errors/index.ts';
import { type IgnoreFile, parseIgnoreFile } from './ignore-file.ts';

/** The name of the context-wide ignore file, at the context root. */
export const CONTEXT_IGNORE_NAME = '.dockerignore';

/** The ignore file that applies to a build, and why. */
export interface SelectedIgnoreFile {
  /** `dockerfile`: the Dockerfile's own `<Dockerfile>.dockerignore`; `context`: the root's `.dockerignore`. */
  readonly source: 'dockerfile' | 'context';
  readonly ignore: IgnoreFile;
}

/**
 * Finds and parses the ignore file for a build, as BuildKit's Dockerfile frontend
 * (frontend/dockerui) does: the Dockerfile's own ignore file, named by appending
 * `.dockerignore` to the Dockerfile's path (`app.Dockerfile` → `app.Dockerfile.dockerignore`,
 * `Dockerfile` → `Dockerfile.dockerignore`, in the Dockerfile's directory), wins when it
 * exists, even empty; otherwise `.dockerignore` at the root of `contextDir`; otherwise none.
 *
 * `dockerfilePath` is the Dockerfile as the user named it (before any `dockerfile`
 * lower-case fallback), or undefined when the Dockerfile has no path (read from stdin).
 * A candidate that does not exist (ENOENT, ENOTDIR) is skipped; one that exists but cannot
 * be read throws {@link InputError} rather than being ignored, which would send files the
 * user meant to keep out. A malformed pattern throws {@link InputError} with file and line.
 */
export async function selectIgnoreFile(
  contextDir: string,
  dockerfilePath: string | undefined,
): Promise<SelectedIgnoreFile | undefined> {
  const candidates: readonly (readonly [SelectedIgnoreFile['source'], string])[] = [
    ...(dockerfilePath === undefined ? [] : [['dockerfile', `${dockerfilePath}.dockerignore`] as const]),
    ['context', join(contextDir, CONTEXT_IGNORE_NAME)],
  ];
  for (const [source, path] of candidates) {
    const content = await readIfPresent(path);
    if (content !== undefined) return { source, ignore: parseIgnoreFile(content, path) };
  }
  return undefined;
}

async function readIfPresent(path: string): Promise<Uint8Array | undefined> {
  try {
    return await readFile(path);
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw new InputError(`cannot read ignore file ${path}: ${code ?? String(cause)}`, {
      cause,
      file: path,
      hint: 'Make it a readable file, or remove it.',
    });
  }
}
