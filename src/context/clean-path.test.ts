import test from 'ava';
import { cleanPath, parentPath } from './clean-path.ts';

// Each row: input, Go's filepath.Clean, Go's filepath.Dir.
const CASES: readonly (readonly [string, string, string])[] = [
  ['', '.', '.'],
  ['.', '.', '.'],
  ['/', '/', '/'],
  ['//', '/', '/'],
  ['a/', 'a', 'a'],
  ['a//b', 'a/b', 'a'],
  ['./a', 'a', '.'],
  ['a/./b', 'a/b', 'a'],
  ['a/..', '.', 'a'],
  ['a/../..', '..', '.'],
  ['../a', '../a', '..'],
  ['/../a', '/a', '/'],
  ['/a/../../b', '/b', '/'],
  ['a/b/../../../c', '../c', '..'],
  ['..', '..', '.'],
  ['!a/../../b', '../b', '..'],
  ['!/a/../b', '!/b', '!'],
  ['  a/b  ', '  a/b  ', '  a'],
  ['a.b/.c/..d', 'a.b/.c/..d', 'a.b/.c'],
  ['/a/b', '/a/b', '/a'],
  ['a', 'a', '.'],
];

test('cleanPath and parentPath give what Go filepath.Clean and filepath.Dir give', (t) => {
  for (const [input, clean, dir] of CASES) {
    t.is(cleanPath(input), clean, `Clean(${JSON.stringify(input)})`);
    t.is(parentPath(input), dir, `Dir(${JSON.stringify(input)})`);
  }
});
