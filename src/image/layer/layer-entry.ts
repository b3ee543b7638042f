import type { Readable } from 'node:stream';

/** The kinds of entry a layer tar holds (POSIX.1-2017 pax, ustar typeflag values). */
export type LayerEntryType = 'file' | 'dir' | 'symlink' | 'hardlink' | 'char' | 'block' | 'fifo';

/**
 * One entry of a layer tar, as kiln writes and reads it: plain readonly data. Paths are
 * relative to the layer root, `/`-separated, without a leading `./` or `/` and without a
 * trailing `/` (the writer adds it for directories, as containerd's archive writer does).
 */
export interface LayerEntry {
  readonly path: string;
  readonly type: LayerEntryType;
  /** Permission bits with setuid, setgid and sticky (07777); the file type is `type`. */
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  /** Modification time in whole seconds since the Unix epoch. */
  readonly mtime: number;
  /** Byte length of the body; files only (0 when absent). */
  readonly size?: number;
  /** The target: of a symlink as written, of a hardlink as the layer path it links to. */
  readonly linkname?: string;
  /** Device numbers of `char` and `block` entries. */
  readonly devmajor?: number;
  readonly devminor?: number;
  /** Extended attributes by full name (`user.foo`, `security.capability`). */
  readonly xattrs?: Readonly<Record<string, Buffer>>;
  /**
   * Opens the body of a `file` entry; called at most once, when the writer reaches the entry,
   * and must yield exactly `size` bytes.
   */
  readonly content?: () => Readable;
  /**
   * A faster way to the body of a small `file` entry, for those whose bytes can be had in one
   * synchronous call (a file on local disk, bytes in memory): copies the body from its start
   * into `target` at `offset`, at most `length` bytes, and returns how many it copied — fewer
   * only where the body ends. The tar writer calls it instead of `content` for bodies it
   * copies straight into its output chunk (up to 256 KiB), asking one byte more than `size` so
   * that a body that grew shows; entries without it are read through `content`, which a body
   * still needs.
   */
  readonly readInto?: (target: Buffer, offset: number, length: number) => number;
  /**
   * Like {@link readInto}, from byte `position` of the body: how the tar writer reads a larger
   * body straight into its output chunks, a chunk's worth per synchronous call, then asks for
   * one byte at `size` to see a body that grew. Entries without it are streamed through
   * `content`.
   */
  readonly readAt?: (target: Buffer, offset: number, length: number, position: number) => number;
}
