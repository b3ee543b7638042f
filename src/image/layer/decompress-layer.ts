import { Readable } from 'node:stream';
import { Digester, type Digest } from '../../content/index.ts';
import { InternalError } from '../../errors/index.ts';
import type { Compression } from '../media-types.ts';
import type { DiffId } from '../oci.ts';
import { decompress, type DecompressOptions } from './decompress.ts';
import { digestTap } from './digest-tap.ts';

/** The tar stream of a layer blob and, once it has been read to its end, the digests. */
export interface DecompressedLayer {
  /** The uncompressed tar. Read it whole (readLayerTar does): `done` settles at its end. */
  readonly tar: Readable;
  /**
   * Resolves after the last byte of `tar` was read with the DiffID of the tar and the digest
   * and size of the blob as it came in; rejects with the stream's error.
   */
  readonly done: Promise<{ readonly diffId: DiffId; readonly digest: Digest; readonly size: number }>;
}

/**
 * Decompresses a layer blob in one pass while hashing both sides: the blob (to check against
 * its descriptor) and the tar (the DiffID to check against the config's rootfs). The tar
 * stream owns the blob stream: destroying it or aborting destroys the blob and kills any
 * decompressor process. Detect the compression first with sniffCompression when no media
 * type says it.
 */
export function decompressLayer(
  blob: AsyncIterable<Uint8Array>,
  compression: Compression,
  options: DecompressOptions = {},
): DecompressedLayer {
  const compressed = new Digester();
  const uncompressed = compression === 'uncompressed' ? compressed : new Digester();
  const input = blob instanceof Readable ? blob : Readable.from(blob, { objectMode: false });
  const tapped = input.pipe(digestTap(compressed));
  // pipe() forwards neither errors downstream nor destruction upstream.
  input.on('error', (error) => tapped.destroy(error));
  tapped.on('close', () => input.destroy());
  const output = decompress(tapped, compression, options);
  const tar = compression === 'uncompressed' ? output : output.pipe(digestTap(uncompressed));
  if (tar !== output) {
    output.on('error', (error) => tar.destroy(error));
    tar.on('close', () => output.destroy());
  }
  const done = new Promise<{ diffId: DiffId; digest: Digest; size: number }>((resolve, reject) => {
    tar.on('end', () => {
      const digest = compressed.digest();
      const diffId = (uncompressed === compressed ? digest : uncompressed.digest()) as string as DiffId;
      resolve({ diffId, digest, size: compressed.size });
    });
    tar.on('error', reject);
    tar.on('close', () => reject(new InternalError('layer tar stream closed before its end: nothing to digest')));
  });
  done.catch(() => undefined);
  return { tar, done };
}
