import test from 'ava';
import { InputError } from '../errors/index.ts';
import { parseIgnoreFile, readIgnorePatterns } from './ignore-file.ts';

const patternsOf = (content: string | Uint8Array): string[] => readIgnorePatterns(content).map((rule) => rule.pattern);

test('comment lines start with # in the first column; an indented # is a pattern', (t) => {
  t.deepEqual(patternsOf('# build output\nout\n  # not a comment\n#!keep\n'), ['out', '# not a comment']);
});

test('blank and all-space lines are skipped and patterns are trimmed', (t) => {
  t.deepEqual(patternsOf('\n   \n\t\n  a  \n\u00a0b\u0085\n'), ['a', 'b']);
});

test('a ! exception is trimmed on both sides of the !', (t) => {
  t.deepEqual(patternsOf('!keep\n ! spaced \n!\t/abs/path\n'), ['!keep', '!spaced', '!abs/path']);
});

test('patterns are cleaned as paths, .. included', (t) => {
  t.deepEqual(patternsOf('a//b/\n./c\nd/../e\n../up\na/../../up2\n/../root\n.\n'), [
    'a/b',
    'c',
    'e',
    '../up',
    '../up2',
    'root',
    '.',
  ]);
});

test('one leading / is dropped, but / alone stays', (t) => {
  t.deepEqual(patternsOf('/foo\n//bar\n/\n!/baz\n'), ['foo', 'bar', '/', '!baz']);
});

test('a lone ! and a ! followed by space are read as ! (and refused only when parsed)', (t) => {
  t.deepEqual(patternsOf('!\n!  \n'), ['!', '!']);
});

test('CRLF line ends are accepted, and a last line needs no newline', (t) => {
  t.deepEqual(patternsOf('a\r\nb\r\n\r\n# c\r\nd'), ['a', 'b', 'd']);
  t.deepEqual(patternsOf('x\r\r\n'), ['x']);
});

test('a UTF-8 byte-order mark opening the file is dropped, as bytes or as text', (t) => {
  const bytes = new Uint8Array([0xef, 0xbb, 0xbf, ...new TextEncoder().encode('# c\nfoo\n')]);
  t.deepEqual(patternsOf(bytes), ['foo']);
  t.deepEqual(patternsOf('\uFEFFfoo\n'), ['foo']);
  // Only the first line's mark goes: one opening a later line is part of its pattern.
  t.deepEqual(patternsOf('a\n\uFEFFb\n'), ['a', '\uFEFFb']);
});

test('each rule records the line and the columns of the trimmed text', (t) => {
  const rules = readIgnorePatterns('# c\n\n  src/*.ts  \n!keep\n');
  t.deepEqual(
    rules.map((rule) => [rule.pattern, rule.range]),
    [
      ['src/*.ts', { start: { line: 3, column: 3 }, end: { line: 3, column: 11 } }],
      ['!keep', { start: { line: 4, column: 1 }, end: { line: 4, column: 6 } }],
    ],
  );
});

test('parseIgnoreFile keeps the path and the rules of a valid file', (t) => {
  const ignore = parseIgnoreFile('node_modules\n!node_modules/keep\n', 'ctx/.dockerignore');
  t.is(ignore.path, 'ctx/.dockerignore');
  t.deepEqual(
    ignore.rules.map((rule) => rule.pattern),
    ['node_modules', '!node_modules/keep'],
  );
});

test('an invalid pattern is an InputError naming the file and the line', (t) => {
  const error = t.throws(() => parseIgnoreFile('ok\n# fine\n  src/[abc\n', 'ctx/.dockerignore'), { instanceOf: InputError });
  t.is(error?.file, 'ctx/.dockerignore');
  t.deepEqual(error?.range, { start: { line: 3, column: 3 }, end: { line: 3, column: 11 } });
  t.regex(error?.message ?? '', /^ctx\/\.dockerignore:3: /);
  t.truthy(error?.hint);
});

test('a lone ! is an InputError naming its line', (t) => {
  const error = t.throws(() => parseIgnoreFile('a\r\n!\r\n', 'x.dockerignore'), { instanceOf: InputError });
  t.is(error?.range?.start.line, 2);
});

test('a pattern Go would fail to compile as a regexp is refused when the file is parsed', (t) => {
  const error = t.throws(() => parseIgnoreFile('[z-a]\n', 'x.dockerignore'), { instanceOf: InputError });
  t.is(error?.range?.start.line, 1);
});
