import test from 'ava';
import { parseDockerfile } from './parse.ts';

/*
 * Inputs that once made parseDockerfile throw or take time quadratic in their size. Each
 * takes milliseconds now; the bound is wide enough to hold on a slow machine, and far below
 * what the quadratic versions took (seconds to minutes).
 */
const LINEAR_BOUND_MS = 1000;

function timed<T>(run: () => T): { result: T; ms: number } {
  const start = performance.now();
  const result = run();
  return { result, ms: performance.now() - start };
}

test('an exec form holding an array nested a thousand deep is a not-strings error at that element', (t) => {
  const nested = `${'['.repeat(1000)}${']'.repeat(1000)}`;
  const { ast, diagnostics } = parseDockerfile(`FROM scratch\nCMD ["a", ${nested}]\n`);
  t.deepEqual(
    diagnostics.map((d) => [d.code, d.range.start]),
    [['exec-form-not-strings', { line: 2, column: 11 }]],
  );
  t.is(ast.instructions.length, 1);
});

test('an unterminated exec form nested thousands deep is the shell form', (t) => {
  const text = `["a", ${'["b", '.repeat(5000)}`;
  const { ast, diagnostics } = parseDockerfile(`FROM scratch\nCMD ${text}\n`);
  t.deepEqual(diagnostics, []);
  t.deepEqual(ast.instructions[1]?.args, [text.trimEnd()]);
  t.is(ast.instructions[1]?.json, false);
});

test('an exec form nested deeper than Go allows (10,000) is the shell form, as in BuildKit', (t) => {
  const text = `["a", ${'['.repeat(10_000)}${']'.repeat(10_000)}]`;
  const { ast, diagnostics } = parseDockerfile(`FROM scratch\nRUN ${text}\n`);
  t.deepEqual(diagnostics, []);
  t.deepEqual(ast.instructions[1]?.args, [text]);
});

test('a chain of ten thousand ONBUILDs is one onbuild-trigger error', (t) => {
  const { ast, diagnostics } = parseDockerfile(`FROM scratch\n${'ONBUILD '.repeat(10_000)}RUN true\n`);
  t.deepEqual(
    diagnostics.map((d) => [d.code, d.range.start]),
    [['onbuild-trigger', { line: 2, column: 9 }]],
  );
  t.is(ast.instructions.length, 1);
});

test('ONBUILD ONBUILD is refused at the inner ONBUILD', (t) => {
  const { diagnostics } = parseDockerfile('FROM scratch\nONBUILD ONBUILD RUN true\n');
  t.deepEqual(
    diagnostics.map((d) => [d.code, d.range.start, d.range.end]),
    [['onbuild-trigger', { line: 2, column: 9 }, { line: 2, column: 16 }]],
  );
});

test('a directive value with a long run of blanks inside is read in linear time', (t) => {
  const value = `docker/dockerfile:1${' '.repeat(100_000)}x`;
  const { result, ms } = timed(() => parseDockerfile(`# syntax=${value}  \nFROM scratch\n`));
  t.true(ms < LINEAR_BOUND_MS, `took ${ms.toFixed(0)} ms`);
  t.deepEqual(
    result.ast.directives.map((d) => [d.name, d.value]),
    [['syntax', value]],
  );
});

test('a directive value is trimmed of blanks, and one of blanks alone is its last blank', (t) => {
  const { ast } = parseDockerfile('#  syntax =  docker/dockerfile:1 \t\n# check= \t\nFROM scratch\n');
  t.deepEqual(
    ast.directives.map((d) => [d.name, d.value]),
    [
      ['syntax', 'docker/dockerfile:1'],
      ['check', '\t'],
    ],
  );
});

test('a block of 100,000 comment lines is read in linear time and belongs to the next instruction', (t) => {
  const text = `FROM scratch\n${'# note\n\n'.repeat(100_000)}RUN true\n`;
  const { result, ms } = timed(() => parseDockerfile(text));
  t.true(ms < LINEAR_BOUND_MS, `took ${ms.toFixed(0)} ms`);
  t.deepEqual(result.diagnostics, []);
  t.is(result.ast.instructions[1]?.comments.length, 100_000);
});

test('comments start over after an empty # line and after each instruction, and skip directives', (t) => {
  const { ast } = parseDockerfile('# escape=\\\n# one\n#\n# two\n# three\nFROM scratch\n# four\nRUN true\nUSER x\n');
  t.deepEqual(
    ast.instructions.map((i) => i.comments),
    [['two', 'three'], ['four'], []],
  );
});
