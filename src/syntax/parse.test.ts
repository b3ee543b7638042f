import test from 'ava';
import { parseDockerfile } from './parse.ts';
import { dumpSexp } from './print.ts';

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
  // Continuation lines keep each physical line under BuildKit's 64 KiB line limit.
  const { ast, diagnostics } = parseDockerfile(`FROM scratch\n${'ONBUILD \\\n'.repeat(10_000)}RUN true\n`);
  t.deepEqual(
    diagnostics.map((d) => [d.code, d.range.start]),
    [['onbuild-trigger', { line: 3, column: 1 }]],
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

// Found by differential fuzzing against BuildKit's parser (parser.Parse built from its source).

test('instruction names fold case as Go does: a Kelvin sign is a K, a long s is not an S', (t) => {
  const kelvin = parseDockerfile('FROM scratch\nWOR\u212aDIR /x\nENTRYPO\u0130NT ["a"]\n');
  t.deepEqual(kelvin.diagnostics, []);
  t.deepEqual(
    kelvin.ast.instructions.map((i) => i.name),
    ['FROM', 'WORKDIR', 'ENTRYPOINT'],
  );
  t.is(dumpSexp(kelvin.ast), '(from "scratch")\n(workdir "/x")\n(entrypoint "a")');
  for (const text of ['\u017fHELL ["a"]', 'ENTRYPO\u0131NT ["a"]', '\ufb06OPSIGNAL 9']) {
    const { diagnostics } = parseDockerfile(`FROM scratch\n${text}\n`);
    t.deepEqual(diagnostics.map((d) => d.code), ['unknown-instruction'], text);
  }
});

test('a line of 64 KiB or more fails, as BuildKit\'s line scanner does', (t) => {
  const ok = parseDockerfile(`FROM scratch\nRUN ${'a'.repeat(65_531)}\n`);
  t.deepEqual(ok.diagnostics, []);
  const long = parseDockerfile(`FROM scratch\nRUN ${'a'.repeat(65_532)}\n`);
  t.deepEqual(long.diagnostics.map((d) => [d.code, d.range.start.line]), [['line-too-long', 2]]);
  const wide = parseDockerfile(`FROM scratch\nRUN ${'\u00e9'.repeat(33_000)}\n`);
  t.deepEqual(wide.diagnostics.map((d) => d.code), ['line-too-long']);
});

test('an escaped lone surrogate in an exec form becomes U+FFFD, as Go decodes it', (t) => {
  const { ast } = parseDockerfile('FROM scratch\nCMD ["\\ud800", "\\ud83d\\u0041", "\\ud83d\\ude00"]\n');
  t.deepEqual(ast.instructions[1]?.args, ['\ufffd', '\ufffdA', '\u{1f600}']);
});

test('an overflowing number hidden by a duplicate key still makes the shell form', (t) => {
  const { ast, diagnostics } = parseDockerfile('FROM scratch\nCMD [{"a":1e999,"a":1}]\n');
  t.deepEqual(diagnostics, []);
  t.deepEqual(ast.instructions[1]?.args, ['[{"a":1e999,"a":1}]']);
  t.false(ast.instructions[1]?.json);
});

test('an instruction starts on the line holding only the escape before it, as BuildKit counts', (t) => {
  const { ast } = parseDockerfile('FROM scratch\n\\\n# c\nRUN x\n');
  t.deepEqual(ast.instructions[1]?.range.start, { line: 2, column: 1 });
  t.is(ast.instructions[1]?.range.end.line, 4);
});

test('comments are kept as BuildKit keeps them for # check= above an instruction', (t) => {
  const { ast } = parseDockerfile(' # indented\n#\u0085 spaced\nFROM scratch\n');
  t.deepEqual(ast.instructions[0]?.comments, ['# indented', 'spaced']);
});
