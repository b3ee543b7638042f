import test from 'ava';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/*
 * The built CLI as a user runs it (`npm test` builds dist/ first, in pretest). These tests
 * check the process boundary: stdout, stderr and exit codes.
 */
const cli = new URL('../../dist/cli.cjs', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'kiln-cli-'));

function kiln(args: readonly string[], input?: string) {
  const r = spawnSync(process.execPath, [cli, ...args], { input, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function dockerfile(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

test('kiln --version prints the package version', (t) => {
  const r = kiln(['--version']);
  t.is(r.code, 0);
  t.regex(r.stdout, /^\d+\.\d+\.\d+\n$/);
});

test('an unknown command exits 2 with a suggestion', (t) => {
  const r = kiln(['prase']);
  t.is(r.code, 2);
  t.regex(r.stderr, /parse/);
});

test('kiln parse --json prints exactly one JSON document on stdout', (t) => {
  const file = dockerfile('ok.Dockerfile', 'FROM busybox\nRUN --mount=type=cache,target=/x echo \\\n  hi\nCMD ["sh"]\n');
  const r = kiln(['parse', '--json', file]);
  t.is(r.code, 0, r.stderr);
  const doc = JSON.parse(r.stdout);
  t.deepEqual(doc.instructions[1], {
    name: 'RUN',
    flags: ['--mount=type=cache,target=/x'],
    args: ['echo   hi'],
    json: false,
    heredocs: [],
    line: { start: 2, end: 3 },
  });
  t.deepEqual(doc.instructions[2].args, ['sh']);
  t.true(doc.instructions[2].json);
  t.is(r.stderr, '');
});

test('kiln parse reads standard input for -', (t) => {
  const r = kiln(['parse', '--json', '-'], 'from scratch\n');
  t.is(r.code, 0, r.stderr);
  t.deepEqual(JSON.parse(r.stdout).instructions[0].name, 'FROM');
});

test('a syntax error exits 1 with FILE:LINE, the line and a caret', (t) => {
  const file = dockerfile('bad.Dockerfile', 'FROM scratch\n\nRNU echo hi\n');
  const r = kiln(['parse', file]);
  t.is(r.code, 1);
  t.is(r.stdout, '');
  t.true(r.stderr.startsWith(`${file}:3:1: error: unknown instruction: RNU\n`), r.stderr);
  t.regex(r.stderr, /3 \| RNU echo hi\n\s+\| \^\^\^\n/);
  t.regex(r.stderr, /hint: did you mean RUN\?/);
});

test('with --json a syntax error still prints one document, listing the errors', (t) => {
  const file = dockerfile('bad2.Dockerfile', 'FROM scratch\nCMD ["a", 1]\n');
  const r = kiln(['parse', '--json', file]);
  t.is(r.code, 1);
  const doc = JSON.parse(r.stdout);
  t.deepEqual(
    doc.errors.map((e: { line: number; column: number; code: string }) => [e.line, e.column, e.code]),
    [[2, 11, 'exec-form-not-strings']],
  );
  t.regex(r.stderr, /:2:11: error:/);
});

test('a warning does not fail the parse and is shown', (t) => {
  const file = dockerfile('warn.Dockerfile', 'FROM scratch\nRUN a \\\n\n  b\n');
  const r = kiln(['parse', file]);
  t.is(r.code, 0);
  t.regex(r.stderr, /:4:\d+: warning: empty continuation line/);
  t.regex(r.stdout, /RUN "a   b"/);
});

test('a missing file exits 1 naming the path', (t) => {
  const r = kiln(['parse', join(dir, 'absent')]);
  t.is(r.code, 1);
  t.regex(r.stderr, /absent/);
  t.regex(r.stderr, /no such file/);
});
