import test from 'ava';
import { compileShellPattern, reverseCodePoints, reverseShellPattern } from './shell-pattern.ts';
import { removePrefix, removeSuffix } from './pattern-removal.ts';
import { replaceAll, replaceFirst } from './pattern-substitution.ts';

const anchored = { greedy: true, anchored: true } as const;

function source(pattern: string): string {
  const compiled = compileShellPattern(pattern, anchored);
  if (!(compiled instanceof RegExp)) throw new Error(compiled.reason);
  return compiled.source;
}

test('wildcards become classes that exclude only a newline', (t) => {
  t.is(source('a*b?'), '^a[^\\n]*b[^\\n]');
  t.is(compileShellPattern('*', { greedy: false, anchored: true }).toString(), '/^[^\\n]*?/u');
});

test('regular-expression syntax in a pattern is escaped', (t) => {
  t.is(source('(a)[b]{c}.+|^$'), '^\\(a\\)\\[b\\]\\{c\\}\\.\\+\\|\\^\\$');
});

test('escaped wildcards and backslashes stay escaped; escaped } and / lose the backslash', (t) => {
  t.is(source('\\*\\?\\\\'), '^\\*\\?\\\\');
  const braceSlash = compileShellPattern('\\}\\/', anchored) as RegExp;
  t.is(braceSlash.exec('}/x')?.[0], '}/');
  t.is(braceSlash.exec('\\}/'), null);
});

test('a backslash before another character, or at the end, is invalid', (t) => {
  for (const pattern of ['\\x', '\\', 'ab\\', '\\\\\\']) {
    const compiled = compileShellPattern(pattern, anchored);
    t.false(compiled instanceof RegExp, pattern);
  }
});

test('compiled patterns are cached', (t) => {
  t.is(compileShellPattern('cache*me', anchored), compileShellPattern('cache*me', anchored));
  t.not(compileShellPattern('cache*me', anchored), compileShellPattern('cache*me', { greedy: false, anchored: true }));
});

test('reversing a pattern keeps each escape before its character', (t) => {
  t.is(reverseShellPattern('a\\*c'), 'c\\*a');
  t.is(reverseShellPattern('\\\\x'), 'x\\\\');
  t.is(reverseShellPattern('ab\\'), '\\ba');
  t.is(reverseShellPattern('😀\\한b'), 'b\\한😀');
});

test('reversing a string keeps surrogate pairs whole', (t) => {
  t.is(reverseCodePoints('a😀b'), 'b😀a');
});

test('suffix removal accepts a trailing lone backslash that prefix removal refuses', (t) => {
  t.is(removeSuffix('ab*', '*\\', false), 'ab');
  t.false(typeof removePrefix('*ab', '*\\', false) === 'string');
});

test('replace-all does not replace an empty match that follows a match', (t) => {
  t.is(replaceAll('abc', '*', '-'), '-');
  t.is(replaceAll('abc', '', '-'), '-a-b-c-');
  t.is(replaceAll('', '', '-'), '-');
});

test('replace-all reads its replacement as a Go template, replace-first does not', (t) => {
  t.is(replaceAll('ab', 'a', '[$0|${0}|$$|$1|$x|${y}|$]'), '[a|a|$||||$]b');
  t.is(replaceAll('ab', 'a', '$00$0x${0'), '${0b');
  t.is(replaceFirst('ab', 'a', '[$0]'), '[$0]b');
});
