import test from 'ava';
import { UsageError } from '../../errors/index.ts';
import { ElementPattern, hasWildcards, splitWildcards } from './wildcard.ts';

/** Go filepath.Match cases for one path element: [pattern, name, matches]. */
const CASES: ReadonlyArray<readonly [string, string, boolean]> = [
  ['*.txt', 'a.txt', true],
  ['*.txt', '.txt', true],
  ['*.txt', 'a.txt.bak', false],
  ['a*b*c', 'abxbc', true],
  ['a*b*c', 'abxbcx', false],
  ['?', 'é', true],
  ['??', 'é', false],
  ['[ab].go', 'b.go', true],
  ['[ab].go', 'c.go', false],
  ['[^ab].go', 'c.go', true],
  ['[^ab].go', 'a.go', false],
  ['[a-c]x', 'bx', true],
  ['[a-c]x', 'dx', false],
  ['[!a]', '!', true],
  ['\\*', '*', true],
  ['\\*', 'a', false],
  ['[\\]]', ']', true],
  ['**', 'anything', true],
  ['', '', true],
  ['x]', 'x]', true],
];

for (const [pattern, name, expected] of CASES) {
  test(`${JSON.stringify(pattern)} ${expected ? 'matches' : 'does not match'} ${JSON.stringify(name)}`, (t) => {
    t.is(new ElementPattern(pattern).matches(name), expected);
  });
}

for (const pattern of ['[', '[]', '[a', 'a\\', '[a-]', '[-a]', '[z-']) {
  test(`the malformed pattern ${JSON.stringify(pattern)} is refused naming it`, (t) => {
    const error = t.throws(() => new ElementPattern(pattern), { instanceOf: UsageError });
    t.true(error.message.includes(JSON.stringify(pattern)));
  });
}

test('wildcards are *, ? and [ unless escaped', (t) => {
  t.true(hasWildcards('src/*.ts'));
  t.true(hasWildcards('a?'));
  t.true(hasWildcards('[ab]'));
  t.false(hasWildcards('plain/path.txt'));
  t.false(hasWildcards('escaped\\*star'));
});

test('a path splits at its first element holding a wildcard', (t) => {
  t.deepEqual(splitWildcards('a/b/*.txt'), { plain: ['a', 'b'], patterns: ['*.txt'] });
  t.deepEqual(splitWildcards('a/b*/c'), { plain: ['a'], patterns: ['b*', 'c'] });
  t.deepEqual(splitWildcards('plain/x'), { plain: ['plain', 'x'], patterns: [] });
});
