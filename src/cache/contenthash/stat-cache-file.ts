import { createHash } from 'node:crypto';

/**
 * The stat cache's entries as columns: row `i` is the path `paths[i]`, its signature
 * `signatures[5i … 5i+4]` (size, mtime ns, ctime ns, inode, device, as Node's BigIntStats
 * gives them) and the sha256 `digests[32i … 32i+31]`.
 */
export interface StatCacheRows {
  readonly paths: readonly string[];
  readonly signatures: BigInt64Array;
  readonly digests: Buffer;
}

/** Numbers in one row's signature. */
export const SIGNATURE_FIELDS = 5;

/** Names the layout; a file with another is not read (its entries are simply hashed again). */
const MAGIC = Buffer.from('kilnsc02', 'latin1');
/** 0x01020304 in this machine's byte order: the columns are written in it. */
const BYTE_ORDER = Buffer.from(new Uint32Array([0x01020304]).buffer);
const HEADER = 48;
const ROW_BYTES = SIGNATURE_FIELDS * 8 + 32;

/*
 * The stat cache file (issue #6: loading and saving it was a tenth of a no-op build):
 *
 *   0   "kilnsc02"                    magic and layout version
 *   8   0x01020304 (u32, native)      the byte order of what follows
 *   12  row count (u32, little-endian)
 *   16  sha256 of bytes 0 to 16 and 48 to the end
 *   48  signatures: count × 5 × i64 (native)
 *       digests: count × 32 bytes
 *       paths: UTF-8, each ended by a NUL (no file path holds one)
 *
 * Read without a parse per entry: the columns are used in place, the paths split once. The
 * digest of the body makes a torn, truncated or damaged file read as no file at all.
 */

/** The file's bytes for `rows`. */
export function encodeStatCacheFile(rows: StatCacheRows): Buffer {
  const count = rows.paths.length;
  const paths = Buffer.from(`${rows.paths.join('\0')}\0`, 'utf8');
  const bytes = Buffer.allocUnsafe(HEADER + count * ROW_BYTES + (count === 0 ? 0 : paths.length));
  MAGIC.copy(bytes, 0);
  BYTE_ORDER.copy(bytes, 8);
  bytes.writeUInt32LE(count, 12);
  let at = HEADER;
  at += Buffer.from(rows.signatures.buffer, rows.signatures.byteOffset, count * SIGNATURE_FIELDS * 8).copy(bytes, at);
  at += Buffer.from(rows.digests.buffer, rows.digests.byteOffset, count * 32).copy(bytes, at);
  if (count > 0) paths.copy(bytes, at);
  bodyDigest(bytes).copy(bytes, 16);
  return bytes;
}

/** The rows of a file {@link encodeStatCacheFile} wrote; undefined when it is not one, or damaged. */
export function decodeStatCacheFile(bytes: Buffer): StatCacheRows | undefined {
  if (bytes.length < HEADER || !bytes.subarray(0, 8).equals(MAGIC) || !bytes.subarray(8, 12).equals(BYTE_ORDER)) return undefined;
  const count = bytes.readUInt32LE(12);
  const pathsAt = HEADER + count * ROW_BYTES;
  if (bytes.length < pathsAt || !bodyDigest(bytes).equals(bytes.subarray(16, HEADER))) {
    return undefined;
  }
  const paths = count === 0 ? [] : bytes.toString('utf8', pathsAt).split('\0');
  // Every path ends in a NUL: the split leaves one empty string after the last.
  if (count > 0 && (paths.length !== count + 1 || paths.pop() !== '')) return undefined;
  // A typed array over the file wants its offset aligned to 8: copy the columns when it is not.
  const columns = (bytes.byteOffset + HEADER) % 8 === 0 ? bytes : new Uint8Array(bytes);
  const signatures = new BigInt64Array(columns.buffer, columns.byteOffset + HEADER, count * SIGNATURE_FIELDS);
  const digests = Buffer.from(columns.buffer, columns.byteOffset + HEADER + count * SIGNATURE_FIELDS * 8, count * 32);
  return { paths, signatures, digests };
}

/** The sha256 of everything but itself: the header before it and the rest of the file. */
function bodyDigest(bytes: Buffer): Buffer {
  return createHash('sha256').update(bytes.subarray(0, 16)).update(bytes.subarray(HEADER)).digest();
}
