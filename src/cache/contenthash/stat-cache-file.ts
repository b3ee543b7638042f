import { createHash } from 'node:crypto';

/**
 * The stat cache's entries as columns: row `i` is the path `paths[i]`, its signature
 * `signatures[5i … 5i+4]` (size, mtime ns, ctime ns, inode, device, as Node's BigIntStats
 * gives them) and the sha256 `digests[32i … 32i+31]`. In a delta, a row whose size is -1 is a
 * tombstone: the path's entry is dropped.
 */
export interface StatCacheRows {
  readonly paths: readonly string[];
  readonly signatures: BigInt64Array;
  readonly digests: Buffer;
}

/** What a stat cache file holds: every entry once (the base), then the changes saved since, in order. */
export interface StatCacheFileContents {
  readonly base: StatCacheRows;
  readonly deltas: readonly StatCacheRows[];
  /** How many rows the deltas hold in all. */
  readonly deltaRows: number;
  /**
   * Whether bytes after the last whole segment were left out (a torn append): the file must
   * be written whole again before anything is appended to it.
   */
  readonly damagedTail: boolean;
}

/** Numbers in one row's signature. */
export const SIGNATURE_FIELDS = 5;

/** The size a delta row gives a path whose entry it drops. */
export const TOMBSTONE_SIZE = -1n;

/** Name the layout of a base and of a delta segment; a file of another is not read (its entries are simply hashed again). */
const BASE_MAGIC = Buffer.from('kilnsc03', 'latin1');
const DELTA_MAGIC = Buffer.from('kilnsd03', 'latin1');
/** 0x01020304 in this machine's byte order: the columns are written in it. */
const BYTE_ORDER = Buffer.from(new Uint32Array([0x01020304]).buffer);
const HEADER = 56;
const DIGEST_AT = 24;
const ROW_BYTES = SIGNATURE_FIELDS * 8 + 32;

/*
 * The stat cache file (issue #6: loading and saving it was a tenth of a no-op build) is a
 * base segment holding every entry, then any number of delta segments appended by later
 * saves that changed a few entries (issue #7: rewriting 2.4 MB to change one entry of a
 * 20,000-file context was a tenth of a rebuild after a `touch`). Each segment:
 *
 *   0   "kilnsc03" (base) or "kilnsd03" (delta)   magic and layout version
 *   8   0x01020304 (u32, native)                  the byte order of what follows
 *   12  row count (u32, little-endian)
 *   16  segment length in bytes, a multiple of 8 (u32, little-endian)
 *   20  0 (u32)
 *   24  sha256 of bytes 0 to 24 and 56 to the segment's end
 *   56  signatures: count × 5 × i64 (native)
 *       digests: count × 32 bytes
 *       paths: UTF-8, each ended by a NUL (no file path holds one)
 *       zeros up to the segment length (the next segment's columns stay aligned)
 *
 * Read without a parse per entry: the columns are used in place, the paths split once. The
 * digest makes a torn, truncated or damaged segment read as absent: a bad base is no cache at
 * all, a bad delta ends the file there.
 */

/** The bytes of a base segment holding `rows`: a whole file. */
export function encodeStatCacheFile(rows: StatCacheRows): Buffer {
  return encodeSegment(BASE_MAGIC, rows);
}

/** The bytes of a delta segment holding `rows` (tombstones among them), to append to a file. */
export function encodeStatCacheDelta(rows: StatCacheRows): Buffer {
  return encodeSegment(DELTA_MAGIC, rows);
}

/** What a file of segments holds; undefined when its base is not one, or damaged (or too big to read). */
export function decodeStatCacheFile(bytes: Buffer): StatCacheFileContents | undefined {
  try {
    return decodeSegments(bytes);
  } catch {
    // A segment whose paths exceed the longest string V8 makes: no cache, as for a damaged one.
    return undefined;
  }
}

function decodeSegments(bytes: Buffer): StatCacheFileContents | undefined {
  // A typed array over the file wants its offsets aligned to 8: copy the file when they are not.
  const aligned = bytes.byteOffset % 8 === 0 ? bytes : Buffer.from(new Uint8Array(bytes));
  const base = decodeSegment(aligned, 0, BASE_MAGIC);
  if (base === undefined) return undefined;
  const deltas: StatCacheRows[] = [];
  let deltaRows = 0;
  let at = base.end;
  while (at < aligned.length) {
    const delta = decodeSegment(aligned, at, DELTA_MAGIC);
    if (delta === undefined) return { base: base.rows, deltas, deltaRows, damagedTail: true };
    deltas.push(delta.rows);
    deltaRows += delta.rows.paths.length;
    at = delta.end;
  }
  return { base: base.rows, deltas, deltaRows, damagedTail: false };
}

function encodeSegment(magic: Buffer, rows: StatCacheRows): Buffer {
  const count = rows.paths.length;
  const paths = count === 0 ? Buffer.alloc(0) : Buffer.from(`${rows.paths.join('\0')}\0`, 'utf8');
  const used = HEADER + count * ROW_BYTES + paths.length;
  const length = Math.ceil(used / 8) * 8;
  const bytes = Buffer.alloc(length);
  magic.copy(bytes, 0);
  BYTE_ORDER.copy(bytes, 8);
  bytes.writeUInt32LE(count, 12);
  bytes.writeUInt32LE(length, 16);
  let at = HEADER;
  at += Buffer.from(rows.signatures.buffer, rows.signatures.byteOffset, count * SIGNATURE_FIELDS * 8).copy(bytes, at);
  at += Buffer.from(rows.digests.buffer, rows.digests.byteOffset, count * 32).copy(bytes, at);
  paths.copy(bytes, at);
  segmentDigest(bytes, 0, length).copy(bytes, DIGEST_AT);
  return bytes;
}

/** The segment at `at` of `bytes` (8-aligned), when it is a whole one with `magic`. */
function decodeSegment(bytes: Buffer, at: number, magic: Buffer): { rows: StatCacheRows; end: number } | undefined {
  if (bytes.length - at < HEADER || !bytes.subarray(at, at + 8).equals(magic) || !bytes.subarray(at + 8, at + 12).equals(BYTE_ORDER)) {
    return undefined;
  }
  const count = bytes.readUInt32LE(at + 12);
  const length = bytes.readUInt32LE(at + 16);
  const pathsAt = at + HEADER + count * ROW_BYTES;
  const end = at + length;
  if (length % 8 !== 0 || end > bytes.length || pathsAt > end || !segmentDigest(bytes, at, length).equals(bytes.subarray(at + DIGEST_AT, at + HEADER))) {
    return undefined;
  }
  let paths: string[] = [];
  if (count > 0) {
    // Every path ends in a NUL, and the padding is NULs: the split leaves only empty strings
    // after the last path (no path is empty).
    const parts = bytes.toString('utf8', pathsAt, end).split('\0');
    if (parts.length < count + 1 || parts[count - 1] === '') return undefined;
    for (let i = count; i < parts.length; i++) if (parts[i] !== '') return undefined;
    parts.length = count;
    paths = parts;
  }
  const signatures = new BigInt64Array(bytes.buffer, bytes.byteOffset + at + HEADER, count * SIGNATURE_FIELDS);
  const digests = Buffer.from(bytes.buffer, bytes.byteOffset + at + HEADER + count * SIGNATURE_FIELDS * 8, count * 32);
  return { rows: { paths, signatures, digests }, end };
}

/** The sha256 of a segment but its own digest: the header before it and the rest of the segment. */
function segmentDigest(bytes: Buffer, at: number, length: number): Buffer {
  return createHash('sha256')
    .update(bytes.subarray(at, at + DIGEST_AT))
    .update(bytes.subarray(at + HEADER, at + length))
    .digest();
}
