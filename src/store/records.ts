import type { Digest } from '../content/index.ts';
import type { Descriptor, DiffId } from '../image/index.ts';

/** How an image or a tag version came to be. */
export type ImageSource = 'build' | 'load' | 'import' | 'tag' | 'pull';

/** A layer of a recorded image, in the order of rootfs.diff_ids. */
export interface LayerRecord {
  readonly diffId: DiffId;
  /** Bytes of the uncompressed tar. */
  readonly size: number;
}

/**
 * An image kiln holds. Its identity is its config digest (the image ID, as in Docker: the
 * same whatever codec its layers are shipped in); each form it has been written in (OCI or
 * Docker media types, a codec) is one manifest, all kept in the content store.
 */
export interface ImageRecord {
  readonly kind: 'image';
  readonly schema: 1;
  readonly id: Digest;
  readonly config: Descriptor;
  readonly layers: readonly LayerRecord[];
  /** Every manifest written for this image, oldest first. */
  readonly manifests: readonly Descriptor[];
  /** The config's `created`, when it has one. */
  readonly created: string | undefined;
  /** When kiln first recorded the image (ISO 8601). */
  readonly recorded: string;
  /** When it was last recorded (a new form, or recorded again): collection spares it while an operation that began before then is live. */
  readonly updated: string;
}

/** One image a tag has pointed at. */
export interface TagVersion {
  readonly id: Digest;
  /** The manifest the tag was set from, when one form was meant. */
  readonly manifest: Digest | undefined;
  readonly time: string;
  readonly source: ImageSource;
}

/**
 * A tag (a full reference such as `docker.io/library/busybox:latest`) and every image it
 * has pointed at: its versions, oldest first; the last is the current one.
 */
export interface TagRecord {
  readonly kind: 'tag';
  readonly schema: 1;
  readonly name: string;
  readonly versions: readonly TagVersion[];
}

/** The image a tag points at now. */
export function currentVersion(tag: TagRecord): TagVersion | undefined {
  return tag.versions[tag.versions.length - 1];
}
