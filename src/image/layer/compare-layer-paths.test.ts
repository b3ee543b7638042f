import test from 'ava';
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
