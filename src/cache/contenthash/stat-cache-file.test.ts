import test from 'ava';
import { decodeStatCacheFile, encodeStatCacheDelta, encodeStatCacheFile, type StatCacheRows, TOMBSTONE_SIZE } from './stat-cache-file.ts';

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
    const read = decodeStatCacheFile(shifted.subarray(shift))?.base;
    t.truthy(read, `shift ${shift}`);
    t.deepEqual(read?.paths, written.paths);
    t.deepEqual(Array.from(read?.signatures ?? []), Array.from(written.signatures));
    t.deepEqual(Array.from(read?.digests ?? []), Array.from(written.digests));
  }
});

test('an empty cache is written and read back', (t) => {
  const read = decodeStatCacheFile(encodeStatCacheFile(rows([])));
  t.deepEqual(read?.base.paths, []);
  t.is(read?.base.signatures.length, 0);
  t.deepEqual(read?.deltas, []);
});

test('bytes of another layout, or with a row count that does not match the paths, are refused', (t) => {
  const bytes = encodeStatCacheFile(rows(['/a', '/b']));
  t.is(decodeStatCacheFile(Buffer.from('{"schema":"kiln.contenthash.statcache.v1","entries":[]}')), undefined);
  t.is(decodeStatCacheFile(bytes.subarray(0, 55)), undefined);
  // A delta alone is no file.
  t.is(decodeStatCacheFile(encodeStatCacheDelta(rows(['/a']))), undefined);
  const wrongCount = Buffer.from(bytes);
  wrongCount.writeUInt32LE(1, 12);
  t.is(decodeStatCacheFile(wrongCount), undefined);
  const otherMagic = Buffer.from(bytes);
  otherMagic.write('kilnsc02', 0, 'latin1');
  t.is(decodeStatCacheFile(otherMagic), undefined);
});

test('deltas appended to a base are read in order, each in place, whatever their lengths', (t) => {
  const base = rows(['/ctx/a', '/ctx/b']);
  const first = rows(['/ctx/c', '/ctx/é']);
  const second: StatCacheRows = { ...rows(['/ctx/a']), signatures: BigInt64Array.from([TOMBSTONE_SIZE, 0n, 0n, 0n, 0n]) };
  const file = Buffer.concat([encodeStatCacheFile(base), encodeStatCacheDelta(first), encodeStatCacheDelta(second)]);
  for (const shift of [0, 5]) {
    const shifted = Buffer.alloc(file.length + shift);
    file.copy(shifted, shift);
    const read = decodeStatCacheFile(shifted.subarray(shift));
    t.deepEqual(read?.base.paths, base.paths);
    t.deepEqual(read?.deltas.map((d) => d.paths), [first.paths, second.paths]);
    t.deepEqual(Array.from(read?.deltas[0]?.signatures ?? []), Array.from(first.signatures));
    t.deepEqual(Array.from(read?.deltas[0]?.digests ?? []), Array.from(first.digests));
    t.is(read?.deltas[1]?.signatures[0], TOMBSTONE_SIZE);
    t.is(read?.deltaRows, 3);
    t.false(read?.damagedTail);
  }
});

test('a torn or damaged delta ends the file there: what came before is read, and the tail is flagged', (t) => {
  const base = encodeStatCacheFile(rows(['/ctx/a']));
  const delta = encodeStatCacheDelta(rows(['/ctx/b', '/ctx/c']));
  const later = encodeStatCacheDelta(rows(['/ctx/d']));
  const flipped = Buffer.from(delta);
  flipped[60] = (flipped[60] as number) ^ 1;
  for (const tail of [delta.subarray(0, delta.length - 8), flipped, Buffer.from('x')]) {
    const read = decodeStatCacheFile(Buffer.concat([base, later, tail, later]));
    t.deepEqual(read?.base.paths, ['/ctx/a']);
    t.deepEqual(read?.deltas.map((d) => d.paths), [['/ctx/d']]);
    t.true(read?.damagedTail);
  }
});
