import test from 'ava';
import { extractFlags } from './flags.ts';
import { splitWords } from './words.ts';

const flagCases: readonly [string, string, readonly string[], string][] = [
  // [escape, text, flags, rest]
  ['\\', '--a --b=c rest of line', ['--a', '--b=c'], 'rest of line'],
  ['\\', '--a -- --not-a-flag', ['--a'], ' --not-a-flag'],
  ['\\', '--a --', ['--a'], ''],
  ['\\', '--mount="type=bind,source=a b" cmd', ['--mount=type=bind,source=a b'], 'cmd'],
  ['\\', "--x='single \\' kept' y", ["--x=single ' kept"], 'y'],
  ['\\', '--x=a\\ b y', ['--x=a b'], 'y'],
  ['\\', '--x=""', ['--x='], ''],
  ['\\', '-x not a flag', [], '-x not a flag'],
  ['\\', '"--quoted" is not a flag', [], '"--quoted" is not a flag'],
  ['`', '--x=a` b y', ['--x=a b'], 'y'],
  ['\\', '--end\\', ['--end'], ''],
];

for (const [escape, text, flags, rest] of flagCases) {
  test(`extractFlags(${JSON.stringify(text)}) with escape ${escape}`, (t) => {
    const result = extractFlags(text, escape);
    t.deepEqual(result.flags, flags);
    t.is(result.rest, rest);
    t.is(text.slice(result.restOffset), rest);
  });
}

const wordCases: readonly [string, string, readonly string[]][] = [
  ['\\', 'a b  c', ['a', 'b', 'c']],
  ['\\', 'k="a b" j=\'c d\'', ['k="a b"', "j='c d'"]],
  ['\\', 'a\\ b c', ['a\\ b', 'c']],
  // Inside single quotes the escape character is ordinary: the second ' closes the quote,
  // and the third opens one that runs to the end.
  ['\\', "'it\\'s' x", ["'it\\'s' x"]],
  ['\\', '"say \\"hi\\"" x', ['"say \\"hi\\""', 'x']],
  ['\\', '"" x', ['""', 'x']],
  ['\\', 'trailing\\', ['trailing']],
  ['\\', '"unterminated quote', ['"unterminated quote']],
  ['`', 'a` b c', ['a` b', 'c']],
  ['\\', 'föo bàr "âbc xÿz"', ['föo', 'bàr', '"âbc xÿz"']],
  ['\\', 'a\u00a0b', ['a', 'b']],
];

for (const [escape, text, words] of wordCases) {
  test(`splitWords(${JSON.stringify(text)}) with escape ${escape}`, (t) => {
    t.deepEqual(splitWords(text, escape), words);
  });
}
