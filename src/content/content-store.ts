import type { Readable } from 'node:stream';
import type { Digest } from './digest.ts';

/** A blob's identity and length. */
export interface BlobInfo {
  readonly digest: Digest;
  readonly size: number;
}

/** What a writer must produce; a mismatch fails the commit and stores nothing. */
export interface Expected {
  readonly digest: Digest;
  /** Checked too when given. */
  readonly size?: number;
}

/**
 * An in-flight blob. Bytes go to a private ingest file while being hashed; `commit` makes
 * the blob visible atomically, `abort` throws it away. Exactly one of the two must be
 * called (`await using` calls `abort` if neither was).
 */
export interface ContentWriter extends AsyncDisposable {
  /** Appends bytes. */
  write(chunk: Uint8Array): Promise<void>;
  /** Bytes written so far. */
  readonly size: number;
  /**
   * fsyncs, verifies against `expected` (or what the writer was opened with), and renames
   * the blob into place. A blob already present with that digest is kept as it is.
   * @throws IntegrityError when the digest or size differs.
   */
  commit(expected?: Expected): Promise<BlobInfo>;
  abort(): Promise<void>;
}

/**
 * Content-addressed blob storage (after containerd's content.Store). Blobs are immutable,
 * named by their sha256, whole or absent whatever is killed when: writes go through an
 * ingest file and a rename; reads verify the digest as the bytes stream past.
 */
export interface ContentStore {
  /** The blob's size, or undefined when it is absent. */
  info(digest: Digest): Promise<BlobInfo | undefined>;
  /**
   * A stream of the blob's bytes that fails with IntegrityError at the end when they do
   * not hash to `digest`, and with NotFoundError when the blob is absent.
   */
  open(digest: Digest): Readable;
  /** The whole blob, verified; for small blobs (manifests, configs). */
  read(digest: Digest): Promise<Buffer>;
  /** Opens a writer; `expected` is checked at commit. */
  writer(options?: { readonly expected?: Expected }): Promise<ContentWriter>;
  /** Stores bytes held in memory. */
  put(data: Uint8Array | string, expected?: Expected): Promise<BlobInfo>;
  /** Stores a stream; the source is consumed whole. */
  ingest(source: AsyncIterable<Uint8Array>, expected?: Expected): Promise<BlobInfo>;
  /** Removes a blob; false when it was absent. Callers decide what is garbage. */
  delete(digest: Digest): Promise<boolean>;
  /** Every blob present. */
  list(): AsyncIterable<BlobInfo>;
}
