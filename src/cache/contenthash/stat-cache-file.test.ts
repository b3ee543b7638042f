import test from 'ava';
import { decodeStatCacheFile, encodeStatCacheFile, type StatCacheRows } from './stat-cache-file.ts';

function rows(paths: readonly string[]): StatCacheRows {
  const signatures = BigInt64Array.from(paths.flatMap((_, i) => [BigInt(i), 1_763_000_000_123_456_789n + BigInt(i), -1n, 2n ** 63n - 1n, -(2n ** 63n)]));
  const digests = Buffer.from(paths.flatMap((_, i) => Array.from({ length: 32 }, (__, j) => (i * 32 + j) % 256)));
  return { paths, signatures, digests };
}

test('rows written and read back are the same, whatever the alignment of the bytes read', (t) => {
  const written = rows(['/ctx/a', '/ctx/dir with space/é', '/ctx/line\nbreak', '/']);
  const bytes = encodeStatCacheFile(written);
  for (const shift of [0, 1, 3]) {
    const shifted = Buffer.alloc(bytes.length + shift);
    bytes.copy(shifted, shift);
    const read = decodeStatCacheFile(shifted.subarray(shift));
    t.truthy(read, `shift ${shift}`);
    t.deepEqual(read?.paths, written.paths);
    t.deepEqual(Array.from(read?.signatures ?? []), Array.from(written.signatures));
    t.deepEqual(Array.from(read?.digests ?? []), Array.from(written.digests));
  }
});

test('an empty cache is written and read back', (t) => {
  const read = decodeStatCacheFile(encodeStatCacheFile(rows([])));
  t.deepEqual(read?.paths, []);
  t.is(read?.signatures.length, 0);
});

test('bytes of another layout, or with a row count that does not match the paths, are refused', (t) => {
  const bytes = encodeStatCacheFile(rows(['/a', '/b']));
  t.is(decodeStatCacheFile(Buffer.from('{"schema":"kiln.contenthash.statcache.v1","entries":[]}')), undefined);
  t.is(decodeStatCacheFile(bytes.subarray(0, 47)), undefined);
  const wrongCount = Buffer.from(bytes);
  wrongCount.writeUInt32LE(1, 12);
  t.is(decodeStatCacheFile(wrongCount), undefined);
  const otherMagic = Buffer.from(bytes);
  otherMagic.write('kilnsc01', 0, 'latin1');
  t.is(decodeStatCacheFile(otherMagic), undefined);
});
