import { Readable } from 'node:stream';
import { Digester, type ContentWriter, type Digest } from '../../content/index.ts';
import { InternalError } from '../../errors/index.ts';
import type { DiffId } from '../oci.ts';
import { compress, type CompressOptions, type WritableCompression } from './compress.ts';
import { digestTap } from './digest-tap.ts';

/** A layer blob's identity: what its descriptor and the config's rootfs need. */
export interface LayerBlob {
  /** sha256 of the compressed bytes: the descriptor's digest. */
  readonly digest: Digest;
  /** Length of the compressed bytes: the descriptor's size. */
  readonly size: number;
  /** sha256 of the uncompressed tar: the config's rootfs.diff_ids entry. */
  readonly diffId: DiffId;
  readonly compression: WritableCompression;
}

/** The blob stream and, once it has been read to its end, its identity. */
export interface CompressedLayer {
  /** The compressed bytes. Read it whole: `done` settles only at its end (or error). */
  readonly blob: Readable;
  /** Resolves after the last byte of `blob` was read; rejects with the stream's error. */
  readonly done: Promise<LayerBlob>;
}

/**
 * Compresses an uncompressed layer tar in one pass, hashing the tar (the DiffID) before
 * compression and the blob (digest and size) after it. The blob stream owns the tar stream:
 * destroying it or aborting destroys everything upstream.
 */
export function compressLayer(
  tar: AsyncIterable<Uint8Array>,
  compression: WritableCompression,
  options: CompressOptions = {},
): CompressedLayer {
  const uncompressed = new Digester();
  const compressed = compression === 'uncompressed' ? uncompressed : new Digester();
  const input = tar instanceof Readable ? tar : Readable.from(tar, { objectMode: false });
  const tapped = input.pipe(digestTap(uncompressed));
  // pipe() forwards neither errors downstream nor destruction upstream.
  input.on('error', (error) => tapped.destroy(error));
  tapped.on('close', () => input.destroy());
  const output = compress(tapped, compression, options);
  const blob = compression === 'uncompressed' ? output : output.pipe(digestTap(compressed));
  if (blob !== output) {
    output.on('error', (error) => blob.destroy(error));
    blob.on('close', () => output.destroy());
  }
  const done = new Promise<LayerBlob>((resolve, reject) => {
    blob.on('end', () => {
      const diffId = uncompressed.digest() as string as DiffId;
      const digest = compressed === uncompressed ? (diffId as string as Digest) : compressed.digest();
      resolve({ digest, size: compressed.size, diffId, compression });
    });
    blob.on('error', reject);
    blob.on('close', () => reject(new InternalError('layer blob stream closed before its end: nothing to digest')));
  });
  // The caller may read `blob` and never look at `done` when the stream fails.
  done.catch(() => undefined);
  return { blob, done };
}

/** Options of {@link writeLayerBlob}. */
export interface WriteLayerBlobOptions extends CompressOptions {
  /**
   * The tar's DiffID, when the source already fails unless its bytes hash to it (an
   * uncompressed layer blob read from the content store, whose digest is its DiffID): the tar
   * is then not hashed a second time, and this is returned as the DiffID.
   */
  readonly diffId?: DiffId;
}

/**
 * Compresses a layer tar into a content writer in one pass and commits it. Each byte is hashed
 * once: the tar on its way into the compressor (the DiffID, unless `options.diffId` vouches
 * for it), the blob by the writer, whose commit gives its digest and size (an uncompressed
 * blob's digest is its DiffID). Takes ownership of `writer`: it is committed on success
 * (checked against what it was opened to expect, if anything) and aborted on any failure, so
 * pass a fresh one. Returns the blob's identity; the blob is then in the store under `digest`.
 */
export async function writeLayerBlob(
  tar: AsyncIterable<Uint8Array>,
  writer: ContentWriter,
  compression: WritableCompression,
  options: WriteLayerBlobOptions = {},
): Promise<LayerBlob> {
  try {
    const { diffId: known, ...compressOptions } = options;
    const uncompressed = compression === 'uncompressed' || known !== undefined ? undefined : new Digester();
    // A tar stored as it is goes straight from `tar` to the writer, one chunk at a time with
    // nothing read ahead: a source may then reuse a chunk's buffer once the next is pulled
    // (layerTarChunks does).
    const blob = compression === 'uncompressed' ? tar : compress(uncompressed === undefined ? tar : hashed(tar, uncompressed), compression, compressOptions);
    for await (const chunk of blob as AsyncIterable<Uint8Array>) {
      options.signal?.throwIfAborted();
      await writer.write(chunk);
    }
    const { digest, size } = await writer.commit();
    const diffId = known ?? ((uncompressed === undefined ? digest : uncompressed.digest()) as string as DiffId);
    return { digest, size, diffId, compression };
  } catch (error) {
    await writer.abort();
    throw error;
  }
}

/** `source`, each chunk fed to `digester` on its way. */
async function* hashed(source: AsyncIterable<Uint8Array>, digester: Digester): AsyncGenerator<Uint8Array> {
  for await (const chunk of source) {
    digester.update(chunk);
    yield chunk;
  }
}
