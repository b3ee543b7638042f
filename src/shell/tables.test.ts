// Runs every row of the expansion tables in testdata/shell (format: testdata/shell/README.md)
// as its own test.
import test from 'ava';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createShellLexer, envFromPairs, type ShellLexer, type ShellLexerOptions } from './index.ts';

const TABLES = fileURLToPath(new URL('../../testdata/shell/', import.meta.url));

type Expected =
  | { readonly kind: 'word'; readonly word: string }
  | { readonly kind: 'words'; readonly words: readonly string[] }
  | { readonly kind: 'error'; readonly contains: string };

interface Row {
  readonly where: string;
  readonly input: string;
  readonly lexer: ShellLexer;
  readonly mode: 'word' | 'words';
  readonly env: readonly (readonly [string, string])[];
  readonly expected: Expected;
  readonly matched: readonly string[] | undefined;
  readonly unmatched: readonly string[] | undefined;
}

const CODE_POINT = /\{U\+([0-9A-Fa-f]{4,6})\}/g;

function unescapeCodePoints(text: string): string {
  return text.replace(CODE_POINT, (_, hex: string) => String.fromCodePoint(Number.parseInt(hex, 16)));
}

// A side of a row: trimmed, or exactly what is between « and ».
function side(text: string): string {
  const trimmed = text.trim();
  const exact = trimmed.startsWith('«') && trimmed.endsWith('»') && trimmed.length >= 2;
  return unescapeCodePoints(exact ? trimmed.slice(1, -1) : trimmed);
}

function parseLexer(args: string, where: string): ShellLexer {
  const options: { -readonly [K in keyof ShellLexerOptions]: ShellLexerOptions[K] } = {};
  for (const arg of args.split(/\s+/).filter((a) => a !== '')) {
    if (arg === 'escape=`' || arg === 'escape=\\') options.escape = arg.slice(-1) as '`' | '\\';
    else if (arg === 'raw-quotes') options.rawQuotes = true;
    else if (arg === 'raw-escapes') options.rawEscapes = true;
    else if (arg === 'skip-unset-env') options.skipUnsetEnv = true;
    else if (arg === 'skip-process-quotes') options.skipProcessQuotes = true;
    else throw new Error(`${where}: unknown lexer option ${arg}`);
  }
  return createShellLexer(options);
}

const ANNOTATION = /\s*\[(matched|unmatched):([^\]]*)\]\s*$/;

function parseTable(file: string, text: string): Row[] {
  const rows: Row[] = [];
  let lexer = createShellLexer();
  let mode: 'word' | 'words' = 'word';
  let env: [string, string][] = [];
  text.split('\n').forEach((line, index) => {
    const where = `${file}:${index + 1}`;
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#')) return;
    if (trimmed.startsWith('@lexer')) {
      lexer = parseLexer(trimmed.slice('@lexer'.length), where);
      return;
    }
    if (trimmed.startsWith('@mode ')) {
      const wanted = trimmed.slice('@mode '.length).trim();
      if (wanted !== 'word' && wanted !== 'words') throw new Error(`${where}: unknown mode ${wanted}`);
      mode = wanted;
      return;
    }
    if (trimmed === '@env') {
      env = [];
      return;
    }
    if (trimmed.startsWith('ENV ')) {
      const assignment = trimmed.slice(4).trim();
      const eq = assignment.indexOf('=');
      env = [...env, eq < 0 ? [assignment, ''] : [assignment.slice(0, eq), unescapeCodePoints(assignment.slice(eq + 1))]];
      return;
    }
    const arrow = line.indexOf(' => ');
    if (arrow < 0) throw new Error(`${where}: a row needs " => "`);
    let rest = line.slice(arrow + 4);
    let matched: string[] | undefined;
    let unmatched: string[] | undefined;
    for (let m = ANNOTATION.exec(rest); m !== null; m = ANNOTATION.exec(rest)) {
      const names = (m[2] as string).split(/\s+/).filter((n) => n !== '');
      if (m[1] === 'matched') matched = names;
      else unmatched = names;
      rest = rest.slice(0, m.index);
    }
    const expectedText = rest.trim();
    let expected: Expected;
    if (expectedText.startsWith('error:')) {
      expected = { kind: 'error', contains: expectedText.slice('error:'.length).trim() };
    } else if (mode === 'words') {
      expected = { kind: 'words', words: expectedText === '(none)' ? [] : expectedText.split(' | ').map(side) };
    } else {
      expected = { kind: 'word', word: side(expectedText) };
    }
    rows.push({ where, input: side(line.slice(0, arrow)), lexer, mode, env, expected, matched, unmatched });
  });
  return rows;
}

const files = readdirSync(TABLES)
  .filter((name) => name.endsWith('.txt'))
  .sort();

test('the expansion tables are found and not empty', (t) => {
  t.true(files.length >= 7);
});

for (const file of files) {
  for (const row of parseTable(file, readFileSync(TABLES + file, 'utf8'))) {
    const { expected } = row;
    const shown =
      expected.kind === 'error'
        ? `error: ${expected.contains}`
        : JSON.stringify(expected.kind === 'word' ? expected.word : expected.words);
    test(`${row.where} ${JSON.stringify(row.input)} expands to ${shown}`, (t) => {
      const env = envFromPairs(row.env);
      if (expected.kind === 'error') {
        const error = t.throws(() =>
          row.mode === 'words' ? row.lexer.processWords(row.input, env) : row.lexer.processWord(row.input, env),
        );
        t.true(error.message.includes(expected.contains), `message: ${error.message}`);
        t.is(error.name, 'DockerfileError');
        return;
      }
      if (expected.kind === 'words') {
        t.deepEqual(row.lexer.processWords(row.input, env), expected.words);
        return;
      }
      const result = row.lexer.processWord(row.input, env);
      t.is(result.word, expected.word);
      if (row.matched !== undefined) t.deepEqual([...result.matched].sort(), [...row.matched].sort());
      if (row.unmatched !== undefined) t.deepEqual([...result.unmatched].sort(), [...row.unmatched].sort());
    });
  }
}
