import { createWriteStream } from 'node:fs';
import { rm, utimes } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Digester, type Digest } from '../../content/index.ts';
import { InputError, IntegrityError } from '../../errors/index.ts';

/** A file ADD fetched from a URL. */
export interface Downloaded {
  readonly path: string;
  readonly digest: Digest;
  /** From Last-Modified (seconds since the epoch), when the server sent one. */
  readonly mtime: number | undefined;
}

/**
 * Downloads `url` into `path`, streaming and hashing as it comes, as BuildKit's http source
 * does for `ADD https://…`: a status other than 2xx is an error naming the URL and status;
 * with `checksum`, a body of another digest is an IntegrityError (nothing is kept).
 */
export async function download(url: string, path: string, checksum: Digest | undefined, signal?: AbortSignal): Promise<Downloaded> {
  let response: Response;
  try {
    response = await fetch(url, { redirect: 'follow', ...(signal === undefined ? {} : { signal }) });
  } catch (error) {
    signal?.throwIfAborted();
    throw new InputError(`failed to load ${url}: ${(error as Error).message}`, { cause: error });
  }
  if (!response.ok || response.body === null) {
    throw new InputError(`invalid response status ${response.status} for ${url}`);
  }
  const digester = new Digester();
  const body = Readable.fromWeb(response.body as never);
  body.on('data', (chunk: Buffer) => digester.update(chunk));
  try {
    await pipeline(body, createWriteStream(path, { mode: 0o600 }), signal === undefined ? {} : { signal });
    const digest = digester.digest();
    if (checksum !== undefined && digest !== checksum) {
      throw new IntegrityError(`digest mismatch for ${url}: expected ${checksum}, got ${digest}`);
    }
    const modified = response.headers.get('last-modified');
    const mtime = modified === null || Number.isNaN(Date.parse(modified)) ? undefined : Date.parse(modified) / 1000;
    if (mtime !== undefined) await utimes(path, mtime, mtime);
    return { path, digest, mtime };
  } catch (error) {
    await rm(path, { force: true });
    throw error;
  }
}
