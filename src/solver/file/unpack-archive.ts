import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { applyEntries, type ApplyEntry } from '../../image/apply/index.ts';
import { decompress, readLayerTar, sniffCompression } from '../../image/layer/index.ts';
import type { Owner } from './make-directories.ts';

const BLOCK = 512;

/**
 * Whether the regular file at `path` is a tar archive, plain or compressed (gzip, bzip2, xz,
 * zstd, told by their magic numbers), as moby's isArchivePath in BuildKit's ADD decides:
 * its (decompressed) first 512-byte block is a tar header with a valid checksum. An empty
 * archive (a zero block first) is not one; neither is anything unreadable or corrupt.
 */
export async function isArchive(path: string, signal?: AbortSignal): Promise<boolean> {
  let plain: Readable | undefined;
  try {
    const sniffed = await sniffCompression(createReadStream(path), signal === undefined ? {} : { signal });
    plain = decompress(sniffed.stream, sniffed.compression, { name: path, ...(signal === undefined ? {} : { signal }) });
    const head: Buffer[] = [];
    let length = 0;
    for await (const chunk of plain) {
      head.push(chunk as Buffer);
      length += (chunk as Buffer).length;
      if (length >= BLOCK) break;
    }
    return length >= BLOCK && isTarHeader(Buffer.concat(head).subarray(0, BLOCK));
  } catch {
    // Not an archive whatever went wrong, unless the copy itself is being stopped.
    signal?.throwIfAborted();
    return false;
  } finally {
    plain?.destroy();
  }
}

/**
 * Extracts the archive at `path` into the directory `destDir` (a host path, which must
 * exist) as moby's chrootarchive.Untar does for ADD: decompressed by content, entries
 * replace what is at their path (a directory merges), `.wh.` names are ordinary files (no
 * whiteout interpretation in Untar), owners are the archive's unless `owner` overrides
 * them all, modes and mtimes are kept, extended attributes and devices as the file system
 * allows. Nothing is written outside `destDir`: names are confined by the layer applier's
 * rules (src/image/apply: a `..` above the root is refused, symlinks resolve inside it,
 * hard links must target an entry inside it).
 *
 * @throws InputError naming the entry for a hostile or malformed one; IntegrityError for a
 * truncated or corrupt archive; the abort reason when `signal` aborts
 */
export async function unpackArchive(path: string, destDir: string, owner: Owner | undefined, name: string, signal?: AbortSignal): Promise<void> {
  const withSignal = signal === undefined ? {} : { signal };
  const sniffed = await sniffCompression(createReadStream(path), withSignal);
  const plain = decompress(sniffed.stream, sniffed.compression, { name, ...withSignal });
  try {
    const entries = readLayerTar(plain, { name, ...withSignal });
    await applyEntries(destDir, owner === undefined ? entries : owned(entries, owner), {
      ...withSignal,
      name,
      whiteouts: 'literal',
      // moby's BestEffortXattrs: attributes the file system refuses are left out.
      unsupported: 'skip',
    });
  } finally {
    plain.destroy();
  }
}

async function* owned(entries: AsyncIterable<ApplyEntry>, owner: Owner): AsyncGenerator<ApplyEntry> {
  for await (const entry of entries) yield { ...entry, uid: owner.uid, gid: owner.gid };
}

/**
 * Go's archive/tar accepts a header block when its checksum (bytes 148–155, octal) equals
 * the sum of the block's bytes with that field read as spaces, unsigned or signed
 * (reader.go readHeader, format.go getFormat); a zero block ends the archive instead.
 */
function isTarHeader(block: Buffer): boolean {
  if (block.every((byte) => byte === 0)) return false;
  const field = block.subarray(148, 156).toString('latin1').replace(/[\0 ]+$/, '').replace(/^[\0 ]+/, '');
  if (!/^[0-7]+$/.test(field)) return false;
  const recorded = Number.parseInt(field, 8);
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK; i += 1) {
    const byte = i >= 148 && i < 156 ? 0x20 : (block[i] as number);
    unsigned += byte;
    signed += byte > 127 ? byte - 256 : byte;
  }
  return recorded === unsigned || recorded === signed;
}
