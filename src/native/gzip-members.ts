import { loadNative } from './load-native.ts';

/**
 * `input` as whole gzip members (RFC 1952), compressed at `level` on a thread of libuv's pool,
 * so the JavaScript thread stays free. Members written one after another are one gzip file
 * (§2.2) that gunzip, Node's zlib and Go's compress/gzip read whole.
 *
 * The input is judged in segments of 16 KiB. A run of segments whose bytes look random
 * (collision entropy at least 7.956 bits a byte, as compressed or encrypted data has: coded as
 * literals they would shrink by 0.6% at most) is written as stored blocks without searching it
 * for matches; the other runs are deflated by libdeflate, about twice as fast as zlib at the
 * same level with output no larger (on the W4 layer, bench/gzip.ts: a third of the CPU time of
 * Node's zlib at level 1, 0.6% less output). libdeflate ends every stream it writes, so a
 * member ends after each deflated run, and at the end of the input: text gives one member, as
 * does an empty input.
 *
 * Every header has MTIME 0, no name, XFL as zlib sets it for the level and OS 3 (the header
 * Node's zlib writes); every trailer the CRC-32 and length of its member's part of the input.
 * The bytes depend only on `input`, `level` and libdeflate's version (the judgment uses
 * integers only). `input` must not be written to until the promise settles.
 *
 * @throws TypeError for an input that is not a Uint8Array, RangeError for a level out of
 * 1–9 (both synchronously); the promise rejects with an Error when memory runs out.
 */
export function gzipMembers(input: Uint8Array, level: number): Promise<Buffer> {
  return loadNative().compress.gzipMembers({ input, level });
}
