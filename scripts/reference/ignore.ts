/**
 * Reference agreement for `.dockerignore` matching: reads the table-driven tests of a
 * moby/patternmatcher checkout at run time and runs kiln's matcher over every row.
 *
 * Tables read (all from the checkout, nothing copied into kiln):
 * - patternmatcher_test.go `TestMatches`: `tests` (plus rows appended for non-Windows
 *   systems; Windows-only rows are skipped) and `multiPatternTests`, each row checked as
 *   the Go test does with MatchesOrParentMatches, MatchesUsingParentResults fed its
 *   parents' results, and MatchesUsingParentResults with no parent results. The Go test
 *   also runs the deprecated MatchesUsingParentResult, which kiln does not implement.
 * - patternmatcher_test.go `matchTests` (TestMatch): expected match or ErrBadPattern, via
 *   the package-level cleaning (a path cleaning to `.` never matches) and
 *   MatchesOrParentMatches; Go runs them through the deprecated `Matches`.
 * - patternmatcher_test.go `compileTests` (TestCompile, slash column): match type and the
 *   Go regexp source kiln builds before translating it.
 * - ignorefile/ignorefile_test.go `TestReadAll`: the file content and the patterns read.
 *
 * Run: `node --import tsx scripts/reference/ignore.ts /path/to/patternmatcher`.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  type MatchInfo,
  NO_PARENT_INFO,
  PatternMatcher,
  cleanPath,
  compilePattern,
  parentPath,
  readIgnorePatterns,
} from '../../src/context/index.ts';
import { InputError } from '../../src/errors/index.ts';

/** Counts of reference rows kiln agrees and disagrees with, and one line per disagreement. */
export interface IgnoreCheckResult {
  passed: number;
  failed: number;
  failures: string[];
}

/**
 * Runs kiln's ignore matching over the table-driven tests of the moby/patternmatcher
 * checkout at `patternmatcherDir` (see the file comment for which). Every row in every mode
 * is one check. Throws when a table cannot be found, so a reshaped upstream file fails loudly
 * instead of passing with nothing checked.
 */
export async function checkIgnore(patternmatcherDir: string): Promise<IgnoreCheckResult> {
  const result: IgnoreCheckResult = { passed: 0, failed: 0, failures: [] };
  const check = (ok: boolean, label: string): void => {
    if (ok) {
      result.passed += 1;
    } else {
      result.failed += 1;
      result.failures.push(label);
    }
  };

  const matcherTests = await readFile(join(patternmatcherDir, 'patternmatcher_test.go'), 'utf8');
  checkTestMatches(matcherTests, check);
  checkMatchTests(matcherTests, check);
  checkCompileTests(matcherTests, check);
  const ignoreFileTests = await readFile(join(patternmatcherDir, 'ignorefile', 'ignorefile_test.go'), 'utf8');
  checkReadAll(ignoreFileTests, check);
  return result;
}

type Check = (ok: boolean, label: string) => void;

function checkTestMatches(source: string, check: Check): void {
  const body = functionBody(source, 'TestMatches');
  const singles = tableAfter(body, 'tests := []matchesTestCase').map((row) => ({
    patterns: [asString(row[0])],
    text: asString(row[1]),
    pass: asBool(row[2]),
  }));
  for (const appended of platformAppends(body, 'tests = append(tests, []matchesTestCase')) {
    for (const row of appended) singles.push({ patterns: [asString(row[0])], text: asString(row[1]), pass: asBool(row[2]) });
  }
  const multis = tableAfter(body, 'multiPatternTests := []multiPatternTestCase').map((row) => ({
    patterns: asList(row[0]).map(asString),
    text: asString(row[1]),
    pass: asBool(row[2]),
  }));
  if (singles.length === 0 || multis.length === 0) throw new Error('TestMatches tables are empty');

  for (const { patterns, text, pass } of [...singles, ...multis]) {
    const label = (mode: string, got: unknown): string =>
      `TestMatches/${mode} patterns=${JSON.stringify(patterns)} text=${JSON.stringify(text)}: want ${pass}, got ${String(got)}`;
    let matcher: PatternMatcher;
    try {
      matcher = new PatternMatcher(patterns);
    } catch (error) {
      for (const mode of ['MatchesOrParentMatches', 'MatchesUsingParentResults', 'MatchesUsingParentResultsNoContext']) {
        check(false, label(mode, error));
      }
      continue;
    }
    const direct = matcher.matchesOrParentMatches(text);
    check(direct === pass, label('MatchesOrParentMatches', direct));
    const chained = matcher.matchesUsingParentResults(text, parentsInfo(matcher, text)).matched;
    check(chained === pass, label('MatchesUsingParentResults', chained));
    const noContext = matcher.matchesUsingParentResults(text, NO_PARENT_INFO).matched;
    check(noContext === pass, label('MatchesUsingParentResultsNoContext', noContext));
  }
}

/** Feeds every parent directory of `text` through the matcher, top down, as the Go test does. */
function parentsInfo(matcher: PatternMatcher, text: string): MatchInfo {
  const parent = parentPath(text);
  let info = NO_PARENT_INFO;
  if (parent === '.') return info;
  const dirs = parent.split('/');
  for (let depth = 1; depth <= dirs.length; depth += 1) {
    info = matcher.matchesUsingParentResults(dirs.slice(0, depth).join('/'), info).info;
  }
  return info;
}

function checkMatchTests(source: string, check: Check): void {
  const rows = tableAfter(source, 'var matchTests = []matchTest');
  if (rows.length === 0) throw new Error('matchTests is empty');
  for (const row of rows) {
    const pattern = asString(row[0]);
    const name = asString(row[1]);
    const match = asBool(row[2]);
    const wantError = asIdent(row[3]) !== 'nil';
    const label = `TestMatch pattern=${JSON.stringify(pattern)} name=${JSON.stringify(name)}`;
    let matcher: PatternMatcher;
    try {
      matcher = new PatternMatcher([pattern]);
    } catch (error) {
      check(wantError && error instanceof InputError, `${label}: want ${wantError ? 'an error' : match}, got ${String(error)}`);
      continue;
    }
    const cleaned = cleanPath(name);
    // The package-level helpers refuse to match the context root itself.
    const got = cleaned === '.' ? false : matcher.matchesOrParentMatches(cleaned);
    check(!wantError && got === match, `${label}: want ${wantError ? 'an error' : match}, got ${got}`);
  }
}

const MATCH_TYPES: Readonly<Record<string, string>> = {
  exactMatch: 'exact',
  prefixMatch: 'prefix',
  suffixMatch: 'suffix',
  regexpMatch: 'regexp',
};

function checkCompileTests(source: string, check: Check): void {
  const rows = tableAfter(source, 'var compileTests = []compileTestCase');
  if (rows.length === 0) throw new Error('compileTests is empty');
  for (const row of rows) {
    const pattern = asString(row[0]);
    const wantKind = MATCH_TYPES[asIdent(row[1])];
    const wantSource = asString(row[2]);
    const label = `TestCompile/slash pattern=${JSON.stringify(pattern)}`;
    let compiled;
    try {
      compiled = compilePattern(pattern);
    } catch (error) {
      check(false, `${label}: ${String(error)}`);
      continue;
    }
    const gotSource = compiled?.kind === 'regexp' ? compiled.goSource : '';
    const ok = compiled?.kind === wantKind && (wantKind !== 'regexp' || gotSource === wantSource);
    check(ok, `${label}: want ${wantKind} ${wantSource}, got ${compiled?.kind} ${gotSource}`);
  }
}

function checkReadAll(source: string, check: Check): void {
  const body = functionBody(source, 'TestReadAll');
  const content = /const content = `([^`]*)`/.exec(body)?.[1];
  if (content === undefined) throw new Error('TestReadAll content not found');
  const expected = compositeAfter(body, 'expected := []string').map(asString);
  const got = readIgnorePatterns(content).map(rule => rule.pattern);
  check(
    JSON.stringify(got) === JSON.stringify(expected),
    `TestReadAll: want ${JSON.stringify(expected)}, got ${JSON.stringify(got)}`,
  );
}

// A small reader for the Go composite literals these tables are written in.

interface GoIdent {
  readonly ident: string;
}
type GoValue = string | GoIdent | readonly GoValue[];

function asString(value: GoValue | undefined): string {
  if (typeof value !== 'string') throw new Error(`expected a Go string, got ${JSON.stringify(value)}`);
  return value;
}

function asIdent(value: GoValue | undefined): string {
  if (value === undefined || typeof value === 'string' || Array.isArray(value)) {
    throw new Error(`expected a Go identifier, got ${JSON.stringify(value)}`);
  }
  return (value as GoIdent).ident;
}

function asBool(value: GoValue | undefined): boolean {
  const ident = asIdent(value);
  if (ident !== 'true' && ident !== 'false') throw new Error(`expected a Go bool, got ${ident}`);
  return ident === 'true';
}

function asList(value: GoValue | undefined): readonly GoValue[] {
  if (!Array.isArray(value)) throw new Error(`expected a Go composite literal, got ${JSON.stringify(value)}`);
  return value;
}

/** The text of `func name(` up to the next top-level `func`. */
function functionBody(source: string, name: string): string {
  const start = source.indexOf(`func ${name}(`);
  if (start < 0) throw new Error(`func ${name} not found`);
  const end = source.indexOf('\nfunc ', start + 1);
  return source.slice(start, end < 0 ? undefined : end);
}

/** The elements of the composite literal whose `{` follows `marker`. */
function compositeAfter(source: string, marker: string): readonly GoValue[] {
  const at = source.indexOf(marker);
  if (at < 0) throw new Error(`${marker} not found`);
  return new GoLiteralReader(source, at + marker.length).readComposite();
}

/** The rows of the table whose `{` follows `marker`, each row a list of fields. */
function tableAfter(source: string, marker: string): readonly (readonly GoValue[])[] {
  return compositeAfter(source, marker).map(asList);
}

/**
 * Rows appended to a table under a `runtime.GOOS` condition: kept unless the condition
 * says Windows only. Unconditional appends are kept too.
 */
function platformAppends(source: string, marker: string): (readonly (readonly GoValue[])[])[] {
  const tables: (readonly (readonly GoValue[])[])[] = [];
  for (let at = source.indexOf(marker); at >= 0; at = source.indexOf(marker, at + 1)) {
    const lineStart = source.lastIndexOf('\n', at);
    const previousLine = source.slice(source.lastIndexOf('\n', lineStart - 1) + 1, lineStart);
    if (/runtime\.GOOS\s*==\s*"windows"/.test(previousLine)) continue;
    tables.push(tableAfter(source.slice(at), marker));
  }
  return tables;
}

class GoLiteralReader {
  readonly #source: string;
  #at: number;

  constructor(source: string, at: number) {
    this.#source = source;
    this.#at = at;
  }

  /** `{ value, value, … }` at the cursor (after blanks), as a list. */
  readComposite(): GoValue[] {
    this.#skipBlanks();
    this.#expect('{');
    const values: GoValue[] = [];
    for (;;) {
      this.#skipBlanks();
      if (this.#source[this.#at] === '}') {
        this.#at += 1;
        return values;
      }
      values.push(this.#readValue());
      this.#skipBlanks();
      if (this.#source[this.#at] === ',') this.#at += 1;
    }
  }

  #readValue(): GoValue {
    const ch = this.#source[this.#at];
    if (ch === '"') return this.#readInterpreted();
    if (ch === '`') {
      const end = this.#source.indexOf('`', this.#at + 1);
      const raw = this.#source.slice(this.#at + 1, end);
      this.#at = end + 1;
      return raw.replaceAll('\r', '');
    }
    if (ch === '{') return this.readComposite();
    if (ch === '[') {
      // A typed composite literal such as []string{…}: skip the type.
      const brace = this.#source.indexOf('{', this.#at);
      this.#at = brace;
      return this.readComposite();
    }
    const ident = /^[A-Za-z_][\w.]*/.exec(this.#source.slice(this.#at, this.#at + 200))?.[0];
    if (ident === undefined) throw new Error(`unexpected ${JSON.stringify(this.#source.slice(this.#at, this.#at + 20))}`);
    this.#at += ident.length;
    return { ident };
  }

  /** A Go "…" string: its bytes, decoded as UTF-8 at the end like Go source text. */
  #readInterpreted(): string {
    const bytes: number[] = [];
    const pushText = (text: string): void => {
      bytes.push(...Buffer.from(text, 'utf8'));
    };
    this.#at += 1;
    for (;;) {
      const ch = this.#source[this.#at];
      if (ch === undefined || ch === '\n') throw new Error('unterminated Go string');
      if (ch === '"') {
        this.#at += 1;
        return Buffer.from(bytes).toString('utf8');
      }
      if (ch !== '\\') {
        const cp = this.#source.codePointAt(this.#at) as number;
        pushText(String.fromCodePoint(cp));
        this.#at += cp > 0xffff ? 2 : 1;
        continue;
      }
      const escape = this.#source[this.#at + 1] ?? '';
      this.#at += 2;
      const simple: Record<string, number> = { a: 7, b: 8, f: 12, n: 10, r: 13, t: 9, v: 11, '\\': 92, "'": 39, '"': 34 };
      const code = simple[escape];
      if (code !== undefined) {
        bytes.push(code);
      } else if (escape === 'x') {
        bytes.push(Number.parseInt(this.#take(2), 16));
      } else if (escape === 'u' || escape === 'U') {
        pushText(String.fromCodePoint(Number.parseInt(this.#take(escape === 'u' ? 4 : 8), 16)));
      } else if (/[0-7]/.test(escape)) {
        bytes.push(Number.parseInt(escape + this.#take(2), 8));
      } else {
        throw new Error(`unknown Go escape \\${escape}`);
      }
    }
  }

  #take(count: number): string {
    const text = this.#source.slice(this.#at, this.#at + count);
    this.#at += count;
    return text;
  }

  #skipBlanks(): void {
    for (;;) {
      const rest = this.#source.slice(this.#at, this.#at + 2);
      if (/^\s/.test(rest)) {
        this.#at += 1;
      } else if (rest === '//') {
        const end = this.#source.indexOf('\n', this.#at);
        this.#at = end < 0 ? this.#source.length : end;
      } else if (rest === '/*') {
        this.#at = this.#source.indexOf('*/', this.#at) + 2;
      } else {
        return;
      }
    }
  }

  #expect(ch: string): void {
    if (this.#source[this.#at] !== ch) {
      throw new Error(`expected ${ch} at ${JSON.stringify(this.#source.slice(this.#at, this.#at + 30))}`);
    }
    this.#at += 1;
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const dir = process.argv[2];
  if (dir === undefined) {
    process.stderr.write('usage: node --import tsx scripts/reference/ignore.ts <patternmatcher checkout>\n');
    process.exit(2);
  }
  const { passed, failed, failures } = await checkIgnore(dir);
  for (const failure of failures) process.stdout.write(`FAIL ${failure}\n`);
  process.stdout.write(`ignore: ${passed} passed, ${failed} failed\n`);
  process.exitCode = failed === 0 ? 0 : 1;
}
