import { createHash, type Hash } from 'node:crypto';
import { InputError } from '../errors/index.ts';

declare const digestBrand: unique symbol;

/**
 * A content digest, `sha256:<64 lowercase hex>` (OCI image-spec descriptor.md). Made only by
 * {@link parseDigest} or by hashing, so an unchecked string never stands for one.
 */
export type Digest = string & { readonly [digestBrand]: 'Digest' };

const DIGEST = /^sha256:[0-9a-f]{64}$/;

/** Whether `text` is a sha256 digest in canonical form. */
export function isDigest(text: string): text is Digest {
  return DIGEST.test(text);
}

/**
 * Checks and brands a digest read from outside (a manifest, a command line, a file name).
 * @param where names the field or path the text came from, for the error.
 * @throws InputError naming `where` when the text is not a sha256 digest.
 */
export function parseDigest(text: string, where = 'digest'): Digest {
  if (isDigest(text)) return text;
  const algorithm = /^([a-z0-9]+(?:[.+_-][a-z0-9]+)*):/.exec(text)?.[1];
  throw new InputError(
    algorithm !== undefined && algorithm !== 'sha256'
      ? `${where}: unsupported digest algorithm ${algorithm} in ${JSON.stringify(text)}`
      : `${where}: ${JSON.stringify(text)} is not a digest (sha256: and 64 lowercase hex digits)`,
  );
}

/** The hex part of a digest: the blob's file name in the store. */
export function digestHex(digest: Digest): string {
  return digest.slice('sha256:'.length);
}

/** The digest of bytes held in memory (manifests, configs, small files). */
export function digestOf(data: Uint8Array | string): Digest {
  return `sha256:${createHash('sha256').update(data).digest('hex')}` as Digest;
}

/** A running sha256 that also counts bytes, for streams. */
export class Digester {
  readonly #hash: Hash = createHash('sha256');
  #size = 0;

  update(chunk: Uint8Array): void {
    this.#hash.update(chunk);
    this.#size += chunk.byteLength;
  }

  get size(): number {
    return this.#size;
  }

  /** Finishes the hash; call once. */
  digest(): Digest {
    return `sha256:${this.#hash.digest('hex')}` as Digest;
  }
}
