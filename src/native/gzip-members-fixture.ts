import { inflateRawSync } from 'node:zlib';

/** One member of a gzip file (RFC 1952 §2.3), as {@link membersOf} reads it. For tests. */
export interface Member {
  readonly header: Buffer;
  /** The raw deflate stream. */
  readonly body: Buffer;
  /** The body inflated on its own: nothing before it in the file is needed. */
  readonly content: Buffer;
  readonly crc: number;
  readonly size: number;
}

/**
 * The members of a gzip file, one after another: a 10-byte header (no FLG fields follow it,
 * checked), a raw deflate stream whose end zlib's inflate finds, then CRC-32 and ISIZE.
 */
export function membersOf(gz: Buffer): Member[] {
  const members: Member[] = [];
  let at = 0;
  while (at < gz.length) {
    const header = gz.subarray(at, at + 10);
    if (header[0] !== 0x1f || header[1] !== 0x8b || header[3] !== 0) throw new Error(`no plain gzip header at byte ${at}`);
    const { buffer, engine } = inflateRawSync(gz.subarray(at + 10), { info: true }) as unknown as { buffer: Buffer; engine: { bytesWritten: number } };
    const end = at + 10 + engine.bytesWritten;
    members.push({ header, body: gz.subarray(at + 10, end), content: buffer, crc: gz.readUInt32LE(end), size: gz.readUInt32LE(end + 4) });
    at = end + 8;
  }
  return members;
}

/**
 * `size` bytes of compressible, not trivial text: lines `line` makes of a linear congruential
 * sequence started at `seed`, the same for the same arguments. For tests.
 */
export function pseudoText(size: number, seed: number, line: (x: number) => string): Buffer {
  const bytes = Buffer.alloc(size);
  let x = seed;
  let at = 0;
  while (at < size) {
    x = (x * 1_103_515_245 + 12_345) % 2 ** 31;
    at += bytes.write(line(x), at);
  }
  return bytes;
}
