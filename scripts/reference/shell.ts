// Runs kiln's expansion engine over BuildKit's own expansion tables, read from a BuildKit
// checkout at run time (nothing of them is copied into kiln):
//   node --import tsx scripts/reference/shell.ts /path/to/buildkit
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createShellLexer, envFromPairs, type ShellEnv } from '../../src/shell/index.ts';

/** The outcome of checking one or more tables: a failure names the file, line and difference. */
export interface ShellCheck {
  readonly passed: number;
  readonly failed: number;
  readonly failures: string[];
}

const TABLE_DIR = 'frontend/dockerfile/shell';

// The variables BuildKit's lex_test.go sets up for envVarTest (TestShellParser4EnvVars).
const ENV_VAR_TEST_ENV: readonly (readonly [string, string])[] = [
  ['PWD', '/home'],
  ['SHELL', 'bash'],
  ['KOREAN', '한국어'],
  ['NULL', ''],
];

/**
 * Checks kiln's expansion against BuildKit's `envVarTest` (one word per row, Unix rows
 * only: `W` rows are skipped) and `wordsTest` (word splitting, with the ENV lines before
 * each row), read from `buildkitDir` when called. Rows expecting `error` pass when kiln
 * throws. A malformed row counts as a failure.
 */
export async function checkShell(buildkitDir: string): Promise<ShellCheck> {
  const tables = await checkShellTables(buildkitDir);
  return {
    passed: tables.reduce((sum, t) => sum + t.passed, 0),
    failed: tables.reduce((sum, t) => sum + t.failed, 0),
    failures: tables.flatMap((t) => t.failures),
  };
}

/** {@link checkShell}, one result per table, in the order envVarTest, wordsTest. */
export async function checkShellTables(buildkitDir: string): Promise<(ShellCheck & { readonly table: string })[]> {
  const envVarTest = await readFile(join(buildkitDir, TABLE_DIR, 'envVarTest'), 'utf8');
  const wordsTest = await readFile(join(buildkitDir, TABLE_DIR, 'wordsTest'), 'utf8');
  return [
    { table: 'envVarTest', ...checkEnvVarTest(envVarTest) },
    { table: 'wordsTest', ...checkWordsTest(wordsTest) },
  ];
}

function tally(): { passed: number; failed: number; failures: string[] } {
  return { passed: 0, failed: 0, failures: [] };
}

function lines(text: string): string[] {
  const all = text.split('\n');
  if (all.at(-1) === '') all.pop();
  // Go's bufio.Scanner drops the \r of a CRLF line ending.
  return all.map((line) => (line.endsWith('\r') ? line.slice(0, -1) : line));
}

function attempt<T>(run: () => T): { ok: true; value: T } | { ok: false; message: string } {
  try {
    return { ok: true, value: run() };
  } catch (error) {
    return { ok: false, message: error instanceof Error ? error.message : String(error) };
  }
}

// Format: `#` comments (at column 0), blank lines, and `platform | word | expected` rows
// where platform is A (all), U (Unix) or W (Windows) and every field is trimmed.
function checkEnvVarTest(text: string): ShellCheck {
  const result = tally();
  const lexer = createShellLexer({ escape: '\\' });
  const env = envFromPairs(ENV_VAR_TEST_ENV);
  lines(text).forEach((raw, index) => {
    const where = `envVarTest:${index + 1}`;
    if (raw.startsWith('#')) return;
    const line = raw.trim();
    if (line === '') return;
    const fields = line.split('|');
    if (fields.length !== 3) {
      result.failed++;
      result.failures.push(`${where}: malformed row ${JSON.stringify(raw)}`);
      return;
    }
    const [platform, source, expected] = fields.map((f) => f.trim()) as [string, string, string];
    if (platform === 'W') return;
    if (platform !== 'A' && platform !== 'U') {
      result.failed++;
      result.failures.push(`${where}: unknown platform ${JSON.stringify(platform)}`);
      return;
    }
    const got = attempt(() => lexer.processWord(source, env).word);
    const pass = expected === 'error' ? !got.ok : got.ok && got.value === expected;
    if (pass) {
      result.passed++;
    } else {
      result.failed++;
      const shown = got.ok ? JSON.stringify(got.value) : `error (${got.message})`;
      result.failures.push(`${where}: ${JSON.stringify(source)} expected ${JSON.stringify(expected)}, got ${shown}`);
    }
  });
  return result;
}

// Format: `#` comments, `ENV name=value` lines that add to the environment of the rows
// after them, and `word | w1,w2,...` rows (the word trimmed, the list only left-trimmed of
// spaces, so trailing spaces count); `error` as the list means the word must fail.
// BuildKit's test also loops over a second mode (raw quotes, unset variables kept) but
// reads the same exhausted file handle in it, so only this default mode is ever checked.
function checkWordsTest(text: string): ShellCheck {
  const result = tally();
  const lexer = createShellLexer({ escape: '\\' });
  const pairs: [string, string][] = [];
  let env: ShellEnv = envFromPairs(pairs);
  lines(text).forEach((line, index) => {
    const where = `wordsTest:${index + 1}`;
    if (line.startsWith('#')) return;
    if (line.startsWith('ENV ')) {
      const assignment = line.slice(3).replace(/^ +/, '');
      const eq = assignment.indexOf('=');
      pairs.push(eq < 0 ? [assignment, ''] : [assignment.slice(0, eq), assignment.slice(eq + 1)]);
      env = envFromPairs(pairs);
      return;
    }
    const fields = line.split('|');
    if (fields.length !== 2) {
      result.failed++;
      result.failures.push(`${where}: malformed row ${JSON.stringify(line)}`);
      return;
    }
    const source = (fields[0] as string).trim();
    const expected = (fields[1] as string).replace(/^ +/, '').split(',');
    const got = attempt(() => lexer.processWords(source, env));
    const words = got.ok ? got.value : ['error'];
    if (words.length === expected.length && words.every((w, i) => w === expected[i])) {
      result.passed++;
    } else {
      result.failed++;
      const difference = `expected ${JSON.stringify(expected)}, got ${JSON.stringify(words)}`;
      result.failures.push(`${where}: ${JSON.stringify(source)} ${difference}`);
    }
  });
  return result;
}

const invoked = process.argv[1];
if (invoked !== undefined && import.meta.url === pathToFileURL(invoked).href) {
  const dir = process.argv[2];
  if (dir === undefined) {
    console.error('usage: node --import tsx scripts/reference/shell.ts <buildkit checkout>');
    process.exit(2);
  }
  const tables = await checkShellTables(dir);
  for (const t of tables) {
    console.log(`${t.table}: ${t.passed} passed, ${t.failed} failed`);
    for (const failure of t.failures) console.log(`  ${failure}`);
  }
  const failed = tables.reduce((sum, t) => sum + t.failed, 0);
  const passed = tables.reduce((sum, t) => sum + t.passed, 0);
  console.log(`total: ${passed} passed, ${failed} failed`);
  process.exitCode = failed === 0 ? 0 : 1;
}
