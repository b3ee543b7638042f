import test from 'ava';
import fc from 'fast-check';
import { compareLayerPaths } from './index.ts';

test('layer order puts a directory before its children and those before later siblings', (t) => {
  const paths = ['a-b', 'a/b/c', 'a', 'a.txt', 'a/b', 'a/b-c', 'B', 'a/.wh.x', 'é', 'z', '\u{1F980}', '\uFFFD'];
  t.deepEqual(paths.sort(compareLayerPaths), ['B', 'a', 'a/.wh.x', 'a/b', 'a/b/c', 'a/b-c', 'a-b', 'a.txt', 'z', 'é', '\uFFFD', '\u{1F980}']);
});

test('non-ASCII names compare by UTF-8 bytes, not UTF-16 code units', (t) => {
  // U+FFFD is EF BF BD in UTF-8, U+1F980 is F0 9F A6 80: UTF-16 would order them the other way.
  t.true(compareLayerPaths('\uFFFD', '\u{1F980}') < 0);
  t.true('\uFFFD' > '\u{1F980}');
  t.is(compareLayerPaths('é/x', 'é/x'), 0);
  t.true(compareLayerPaths('é/x', 'é-x') < 0);
});

test('the order is that of the UTF-8 bytes with "/" lowest, for any text, surrogates included', (t) => {
  // The definition, spelled out on bytes; compareLayerPaths gets there without encoding.
  const rank = (byte: number) => (byte === 0x2f ? 0 : byte);
  const reference = (a: string, b: string): number => {
    const x = Buffer.from(a, 'utf8');
    const y = Buffer.from(b, 'utf8');
    for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return rank(x[i]!) - rank(y[i]!);
    return x.length - y.length;
  };
  const text = fc.oneof(
    fc.string({ unit: fc.constantFrom('a', 'b', '/', '-', '.', 'é', '\uFFFD', '\uE000', '\u{1F980}', '\u{10000}', '\uD800', '\uDFFF') }),
    fc.string({ unit: 'grapheme' }),
    fc.string({ unit: 'binary' }),
  );
  t.notThrows(() =>
  fc.assert(
      fc.property(text, text, (a, b) => Math.sign(compareLayerPaths(a, b)) === Math.sign(reference(a, b))),
      { numRuns: 5000 },
    ),
  );
});
