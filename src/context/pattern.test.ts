import { readFileSync } from 'node:fs';
import test from 'ava';
import { InputError } from '../errors/index.ts';
import { compilePattern, matchPattern } from './pattern.ts';
import { PatternMatcher } from './pattern-matcher.ts';

const invalidRows = readFileSync(new URL('../../testdata/ignore/invalid.tsv', import.meta.url), 'utf8')
  .split('\n')
  .map((text, index) => ({ fields: text.split('\t'), line: index + 1 }))
  .filter(({ fields }) => fields[0] !== '' && !fields[0]?.startsWith('#'));

test(`invalid.tsv: every malformed pattern is refused with an InputError (${invalidRows.length})`, (t) => {
  for (const { fields, line } of invalidRows) {
    const [pattern = '', where] = fields;
    t.true(where === 'glob' || where === 'regexp', `invalid.tsv:${line}: second field`);
    t.throws(() => compilePattern(pattern), { instanceOf: InputError }, `invalid.tsv:${line} ${pattern}`);
    t.throws(() => new PatternMatcher(['ok', pattern]), { instanceOf: InputError }, `invalid.tsv:${line} ${pattern}`);
  }
});

test('an empty or all-space pattern compiles to nothing', (t) => {
  t.is(compilePattern(''), undefined);
  t.is(compilePattern(' \t\u00a0'), undefined);
});

test('patterns get patternmatcher match types: exact, prefix, suffix, regexp', (t) => {
  const kinds = ['abc.def', 'a(b)c/def', 'dir/**', 'abc**', '**', '**/dir', '**file', '*', 'a?c', 'a[bc]', 'a\\*', '**/**', '**/a*'].map(
    (pattern) => [pattern, compilePattern(pattern)?.kind],
  );
  t.deepEqual(kinds, [
    ['abc.def', 'exact'],
    ['a(b)c/def', 'exact'],
    ['dir/**', 'prefix'],
    ['abc**', 'prefix'],
    ['**', 'suffix'],
    ['**/dir', 'suffix'],
    ['**file', 'suffix'],
    ['*', 'regexp'],
    ['a?c', 'regexp'],
    ['a[bc]', 'regexp'],
    ['a\\*', 'regexp'],
    ['**/**', 'regexp'],
    ['**/a*', 'regexp'],
  ]);
});

test('the Go regexp built for a pattern escapes only what a glob does not use', (t) => {
  const pattern = compilePattern('**/x.y+(z)/*?[ab]');
  t.is(pattern?.kind, 'regexp');
  t.is(pattern?.kind === 'regexp' ? pattern.goSource : '', '^(.*/)?x\\.y\\+\\(z\\)/[^/]*[^/][ab]$');
});

test('a leading ! marks an exception after cleaning, and a lone ! is refused', (t) => {
  const pattern = compilePattern('  !a//b/ ');
  t.like(pattern, { text: 'a/b', exclusion: true });
  const error = t.throws(() => compilePattern('!'), { instanceOf: InputError });
  t.truthy(error?.hint);
});

test('a suffix pattern matches by text, so **foo matches barfoo', (t) => {
  const pattern = compilePattern('**foo');
  t.truthy(pattern);
  if (pattern === undefined) return;
  t.true(matchPattern(pattern, 'barfoo'));
  t.true(matchPattern(pattern, 'a/foo'));
  t.false(matchPattern(pattern, 'foo/a'));
});
